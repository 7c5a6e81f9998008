// SPDX-License-Identifier: GPL-2.0
/*
 * kdive_race - test data for the kdive lab (lab/lab.sh builds it into a QEMU guest).
 *
 * mode=race (default) reproduces the alx driver bug of the seed write-up:
 * a timer stands in for the NIC's misc interrupt, keeps logging
 * "fatal interrupt 0x4001607, resetting" and schedules reset_wk.  The remove
 * path (module_exit) cancels the work, frees the napis and NULLs qnapi[],
 * then sleeps (like unregister_netdev() -> netdev_run_todo() -> rcu_barrier())
 * while the timer is still armed.  The timer queues reset_wk again and the
 * kworker dereferences qnapi[i]->txq == NULL in kdive_race_reinit_rings():
 * Oops -> panic_on_oops -> kdump, with rmmod asleep in the exit path.
 *
 * mode=hung: writes to /proc/kdive_race block in TASK_UNINTERRUPTIBLE:
 *   "hold" takes cfg_mutex and waits for a link-up completion that never comes,
 *   "cfg"  then blocks on cfg_mutex.
 * With kernel.hung_task_panic=1 khungtaskd panics the machine.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/mdio.h>
#include <linux/timer.h>
#include <linux/workqueue.h>
#include <linux/slab.h>
#include <linux/completion.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/proc_fs.h>
#include <linux/uaccess.h>
#include <linux/rtnetlink.h>
#include <linux/io.h>

/* Keep these functions whole and under their own names (no inlining, no .constprop clones),
 * so the stacks read like the seed's alx ones. */
#define kdive_noipa	__attribute__((__noipa__))

#define KDIVE_RACE_MAX_NAPIS	8
#define KDIVE_RACE_FATAL_INTR	0x4001607
#define KDIVE_RACE_ISR_FATAL	0x00000600
#define KDIVE_RACE_DESCMEM_SIZE	4096

static char *mode = "race";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "race (alx reset/remove race), hung (uninterruptible writers on /proc/kdive_race) or stackend (a smashed stack-end canary)");

static unsigned int period_ms = 200;
module_param(period_ms, uint, 0444);
MODULE_PARM_DESC(period_ms, "period of the fake fatal interrupt");

static int num_napi = 4;
module_param(num_napi, int, 0444);
MODULE_PARM_DESC(num_napi, "number of napi vectors (1..8)");

static unsigned int todo_ms = 10000;
module_param(todo_ms, uint, 0444);
MODULE_PARM_DESC(todo_ms, "how long the remove path sleeps after freeing the napis");

struct kdive_race_buffer {
	dma_addr_t dma;
	u32 size;
	struct sk_buff *skb;
};

struct kdive_race_tx_queue {
	int count;
	void *tpd;
	dma_addr_t tpd_dma;
	struct kdive_race_buffer *bufs;
	u16 read_idx;
	u16 write_idx;
	u16 p_reg;
	u16 c_reg;
	u16 queue_idx;
	struct device *dev;
	struct kdive_race_napi *np;
};

struct kdive_race_rx_queue {
	struct net_device *netdev;
	struct device *dev;
	struct kdive_race_napi *np;
	void *rrd;
	dma_addr_t rrd_dma;
	void *rfd;
	dma_addr_t rfd_dma;
	struct kdive_race_buffer *bufs;
	u16 count;
	u16 write_idx;
	u16 read_idx;
	u16 rrd_read_idx;
	u16 queue_idx;
};

struct kdive_race_napi {
	struct napi_struct napi;
	struct kdive_race_priv *priv;
	struct kdive_race_rx_queue *rxq;
	struct kdive_race_tx_queue *txq;
	int vec_idx;
	u32 vec_mask;
	char irq_lbl[IFNAMSIZ + 8];
};

struct kdive_race_hw_stats {
	u64 rx_ok;
	u64 rx_bcast;
	u64 rx_mcast;
	u64 rx_pause;
	u64 rx_ctrl;
	u64 rx_fcs_err;
	u64 tx_ok;
	u64 tx_bcast;
	u64 tx_mcast;
	u64 tx_pause;
	u64 tx_underrun;
	u64 update;
};

struct kdive_race_hw {
	struct pci_dev *pdev;
	u8 __iomem *hw_addr;
	u8 mac_addr[ETH_ALEN];
	u8 perm_addr[ETH_ALEN];
	u16 mtu;
	u16 imt;
	u8 dma_chnl;
	u8 max_dma_chnl;
	u32 ith_tpd;
	u32 rx_ctrl;
	u32 mc_hash[2];
	u32 smb_timer;
	int link_speed;
	u8 duplex;
	u8 flowctrl;
	u32 adv_cfg;
	spinlock_t mdio_lock;
	struct mdio_if_info mdio;
	u16 phy_id[2];
	bool lnk_patch;
	struct kdive_race_hw_stats stats;
};

struct kdive_race_priv {
	struct net_device *dev;
	struct kdive_race_hw hw;
	int num_vec;
	struct {
		dma_addr_t dma;
		void *virt;
		unsigned int size;
	} descmem;
	struct kdive_race_napi *qnapi[KDIVE_RACE_MAX_NAPIS];
	int num_txq;
	int num_rxq;
	int num_napi;
	spinlock_t irq_lock;
	u32 int_mask;
	unsigned int tx_ringsz;
	unsigned int rx_ringsz;
	unsigned int rxbuf_size;
	struct work_struct link_check_wk;
	struct work_struct reset_wk;
	u16 msg_enable;
	spinlock_t stats_lock;
	/* lab scaffolding below: what the real driver got from PCI and netdev */
	struct timer_list intr_timer;
	struct completion todo_done;
	struct mutex cfg_mutex;
	struct completion link_up;
	unsigned long resets;
	bool proc_mode;
};

static struct kdive_race_priv *kdive_race_dev;
static struct proc_dir_entry *kdive_race_proc;

static void kdive_race_set_macaddr(struct kdive_race_hw *hw, const u8 *addr)
{
	memcpy(hw->mac_addr, addr, ETH_ALEN);
}

static kdive_noipa void kdive_race_reinit_rings(struct kdive_race_priv *priv)
{
	struct kdive_race_hw *hw = &priv->hw;
	u32 addr_hi = ((u64)priv->descmem.dma) >> 32;
	struct kdive_race_napi *np;
	int i;

	for (i = 0; i < priv->num_napi; i++) {
		np = priv->qnapi[i];
		if (np->txq) {
			np->txq->read_idx = 0;
			np->txq->write_idx = 0;
			WRITE_ONCE(hw->ith_tpd, addr_hi | np->txq->queue_idx);
		}
		if (np->rxq) {
			np->rxq->read_idx = 0;
			np->rxq->write_idx = 0;
			np->rxq->rrd_read_idx = 0;
			WRITE_ONCE(hw->rx_ctrl, addr_hi | np->rxq->queue_idx);
		}
	}
}

static kdive_noipa void kdive_race_configure(struct kdive_race_priv *priv)
{
	struct kdive_race_hw *hw = &priv->hw;

	hw->imt = 200;
	hw->smb_timer = 400;
	hw->rx_ctrl |= 0x1;
	priv->int_mask = KDIVE_RACE_ISR_FATAL;
}

static void kdive_race_schedule_link_check(struct kdive_race_priv *priv)
{
	schedule_work(&priv->link_check_wk);
}

static kdive_noipa void kdive_race_activate(struct kdive_race_priv *priv)
{
	/* hardware setting lost, restore it */
	kdive_race_reinit_rings(priv);
	kdive_race_configure(priv);
	priv->resets++;
	kdive_race_schedule_link_check(priv);
}

static inline void kdive_race_reinit(struct kdive_race_priv *priv)
{
	ASSERT_RTNL();
	priv->hw.link_speed = 0;
	kdive_race_activate(priv);
}

static void kdive_race_reset(struct work_struct *work)
{
	struct kdive_race_priv *priv = container_of(work, struct kdive_race_priv, reset_wk);

	rtnl_lock();
	kdive_race_reinit(priv);
	rtnl_unlock();
}

static void kdive_race_link_check(struct work_struct *work)
{
	struct kdive_race_priv *priv = container_of(work, struct kdive_race_priv, link_check_wk);

	priv->hw.link_speed = 1000;
	priv->hw.duplex = DUPLEX_FULL;
}

static void kdive_race_schedule_reset(struct kdive_race_priv *priv)
{
	schedule_work(&priv->reset_wk);
}

static bool kdive_race_intr_handle_misc(struct kdive_race_priv *priv, u32 intr)
{
	if (intr & KDIVE_RACE_ISR_FATAL) {
		pr_warn("kdive_race %s: fatal interrupt 0x%x, resetting\n",
			priv->dev->name, intr);
		kdive_race_schedule_reset(priv);
		return true;
	}
	return false;
}

static void kdive_race_intr_timer(struct timer_list *t)
{
	struct kdive_race_priv *priv = from_timer(priv, t, intr_timer);

	kdive_race_intr_handle_misc(priv, KDIVE_RACE_FATAL_INTR);
	mod_timer(&priv->intr_timer, jiffies + msecs_to_jiffies(period_ms));
}

static int kdive_race_alloc_napis(struct kdive_race_priv *priv)
{
	struct kdive_race_napi *np;
	int i;

	for (i = 0; i < priv->num_napi; i++) {
		np = kzalloc(sizeof(*np), GFP_KERNEL);
		if (!np)
			return -ENOMEM;
		np->priv = priv;
		np->vec_idx = i;
		np->vec_mask = 1u << i;
		snprintf(np->irq_lbl, sizeof(np->irq_lbl), "%s-TxRx-%d", priv->dev->name, i);
		priv->qnapi[i] = np;

		if (i < priv->num_txq) {
			np->txq = kzalloc(sizeof(*np->txq), GFP_KERNEL);
			if (!np->txq)
				return -ENOMEM;
			np->txq->np = np;
			np->txq->queue_idx = i;
			np->txq->count = priv->tx_ringsz;
		}
		if (i < priv->num_rxq) {
			np->rxq = kzalloc(sizeof(*np->rxq), GFP_KERNEL);
			if (!np->rxq)
				return -ENOMEM;
			np->rxq->np = np;
			np->rxq->netdev = priv->dev;
			np->rxq->queue_idx = i;
			np->rxq->count = priv->rx_ringsz;
		}
	}
	return 0;
}

static void kdive_race_free_napis(struct kdive_race_priv *priv)
{
	struct kdive_race_napi *np;
	int i;

	for (i = 0; i < priv->num_napi; i++) {
		np = priv->qnapi[i];
		if (!np)
			continue;
		kfree(np->txq);
		kfree(np->rxq);
		kfree(np);
		priv->qnapi[i] = NULL;
	}
}

/* Stands in for unregister_netdev(): in the seed, rmmod sleeps in rcu_barrier() here. */
static kdive_noipa void kdive_race_unregister_netdev(struct kdive_race_priv *priv)
{
	/* not a tail call, so this frame stays on rmmod's stack */
	if (!wait_for_completion_timeout(&priv->todo_done, msecs_to_jiffies(todo_ms)))
		pr_info("kdive_race: remove path slept %u ms, the race did not fire\n", todo_ms);
}

static kdive_noipa void kdive_race_remove(struct kdive_race_priv *priv)
{
	struct kdive_race_hw *hw = &priv->hw;

	cancel_work_sync(&priv->link_check_wk);
	cancel_work_sync(&priv->reset_wk);

	/* restore permanent mac address */
	kdive_race_set_macaddr(hw, hw->perm_addr);

	/* the stop path frees the napis while the fatal interrupt is still live */
	kdive_race_free_napis(priv);
	kdive_race_unregister_netdev(priv);

	/* only reached when the race did not fire */
	del_timer_sync(&priv->intr_timer);
	cancel_work_sync(&priv->reset_wk);
	cancel_work_sync(&priv->link_check_wk);
}

/* mode=hung */
static kdive_noipa void kdive_race_wait_link(struct kdive_race_priv *priv)
{
	mutex_lock(&priv->cfg_mutex);
	/* uninterruptible and not killable: khungtaskd reports it */
	wait_for_completion(&priv->link_up);
	mutex_unlock(&priv->cfg_mutex);
}

static kdive_noipa void kdive_race_set_config(struct kdive_race_priv *priv)
{
	mutex_lock(&priv->cfg_mutex);
	priv->hw.adv_cfg++;
	mutex_unlock(&priv->cfg_mutex);
}

/*
 * mode=stackend: writing "smash" to /proc/kdive_race overwrites the writer's stack-end canary
 * (STACK_END_MAGIC at end_of_stack(current), as a stack overflow would) with
 * KDIVE_RACE_SMASH and sleeps: the scheduler's CONFIG_SCHED_STACK_END_CHECK test panics with
 * "corrupted stack end detected inside scheduler".
 *
 * This mode, its includes too, sits below the race and hung code so that their source lines
 * stay where the debug info of the lab's earlier captures puts them (lab tests print them).
 */
#include <linux/delay.h>
#include <linux/sched/task_stack.h>

#define KDIVE_RACE_SMASH	0x6b6469766b646976UL

static kdive_noipa void kdive_race_smash_stack_end(void)
{
	unsigned long *end = end_of_stack(current);

	pr_info("kdive_race: smashing the stack end of pid %d at %px\n", current->pid, end);
	WRITE_ONCE(*end, KDIVE_RACE_SMASH);
	msleep(10);
}

static ssize_t kdive_race_proc_write(struct file *file, const char __user *buf,
				     size_t count, loff_t *ppos)
{
	char cmd[16] = {};

	if (copy_from_user(cmd, buf, min(count, sizeof(cmd) - 1)))
		return -EFAULT;
	if (!strncmp(cmd, "hold", 4))
		kdive_race_wait_link(kdive_race_dev);
	else if (!strncmp(cmd, "cfg", 3))
		kdive_race_set_config(kdive_race_dev);
	else if (!strncmp(cmd, "smash", 5) && !strcmp(mode, "stackend"))
		kdive_race_smash_stack_end();
	else
		return -EINVAL;
	return count;
}

static const struct proc_ops kdive_race_proc_ops = {
	.proc_write = kdive_race_proc_write,
};

static int __init kdive_race_init(void)
{
	struct net_device *netdev;
	struct kdive_race_priv *priv;
	struct kdive_race_hw *hw;
	int err;

	if (num_napi < 1 || num_napi > KDIVE_RACE_MAX_NAPIS)
		return -EINVAL;

	netdev = alloc_netdev(sizeof(*priv), "kdrace0", NET_NAME_UNKNOWN, ether_setup);
	if (!netdev)
		return -ENOMEM;
	priv = netdev_priv(netdev);
	priv->dev = netdev;
	hw = &priv->hw;

	spin_lock_init(&priv->irq_lock);
	spin_lock_init(&priv->stats_lock);
	spin_lock_init(&hw->mdio_lock);
	INIT_WORK(&priv->link_check_wk, kdive_race_link_check);
	INIT_WORK(&priv->reset_wk, kdive_race_reset);
	timer_setup(&priv->intr_timer, kdive_race_intr_timer, 0);
	init_completion(&priv->todo_done);
	init_completion(&priv->link_up);
	mutex_init(&priv->cfg_mutex);
	priv->proc_mode = !strcmp(mode, "hung") || !strcmp(mode, "stackend");

	eth_random_addr(hw->perm_addr);
	kdive_race_set_macaddr(hw, hw->perm_addr);
	hw->mtu = ETH_DATA_LEN;
	hw->max_dma_chnl = 4;
	hw->dma_chnl = hw->max_dma_chnl;
	hw->phy_id[0] = 0x004d;
	hw->phy_id[1] = 0xd072;
	hw->mdio.prtad = 0;
	hw->mdio.mmds = 0;
	hw->mdio.dev = netdev;
	hw->mdio.mode_support = MDIO_SUPPORTS_C22;
	priv->msg_enable = 0x3f;
	priv->tx_ringsz = 256;
	priv->rx_ringsz = 512;
	priv->rxbuf_size = 1536;
	priv->num_vec = num_napi + 1;
	priv->num_txq = num_napi;
	priv->num_rxq = 1;
	priv->num_napi = num_napi;

	priv->descmem.size = KDIVE_RACE_DESCMEM_SIZE;
	priv->descmem.virt = kzalloc(priv->descmem.size, GFP_KERNEL);
	if (!priv->descmem.virt) {
		err = -ENOMEM;
		goto out_free;
	}
	priv->descmem.dma = (dma_addr_t)virt_to_phys(priv->descmem.virt);

	err = kdive_race_alloc_napis(priv);
	if (err)
		goto out_free;

	kdive_race_dev = priv;
	if (priv->proc_mode) {
		kdive_race_proc = proc_create("kdive_race", 0200, NULL, &kdive_race_proc_ops);
		if (!kdive_race_proc) {
			err = -ENOMEM;
			goto out_free;
		}
	} else {
		mod_timer(&priv->intr_timer, jiffies + msecs_to_jiffies(period_ms));
	}
	pr_info("kdive_race: loaded, mode=%s priv=%px qnapi=%px num_napi=%d\n",
		mode, priv, priv->qnapi, priv->num_napi);
	return 0;

out_free:
	kdive_race_free_napis(priv);
	kfree(priv->descmem.virt);
	free_netdev(netdev);
	return err;
}

/*
 * mode=uaf: the race of mode=race, but the remove path frees the napis without NULLing
 * qnapi[] (a use after free). With slub_debug=FZPU on the kernel command line, the freed
 * napi reads 0x6b (POISON_FREE) and SLUB keeps who allocated and who freed it; the kworker
 * then takes np->txq == 0x6b6b6b6b6b6b6b6b and faults on a non-canonical address.
 *
 * Placed after the race, hung and stack-end code so that their source lines stay where the
 * debug info of the lab's earlier captures puts them.
 */
static kdive_noipa void kdive_race_free_napis_uaf(struct kdive_race_priv *priv)
{
	struct kdive_race_napi *np;
	int i;

	for (i = 0; i < priv->num_napi; i++) {
		np = priv->qnapi[i];
		if (!np)
			continue;
		kfree(np->txq);
		kfree(np->rxq);
		kfree(np);
		/* priv->qnapi[i] still points at the freed napi */
		pr_info("kdive_race: uaf: freed napi %d at %px\n", i, np);
	}
}

static kdive_noipa void kdive_race_remove_uaf(struct kdive_race_priv *priv)
{
	struct kdive_race_hw *hw = &priv->hw;

	cancel_work_sync(&priv->link_check_wk);
	cancel_work_sync(&priv->reset_wk);

	/* restore permanent mac address */
	kdive_race_set_macaddr(hw, hw->perm_addr);

	/* frees the napis, leaves qnapi[] dangling, while the fatal interrupt is still live */
	kdive_race_free_napis_uaf(priv);
	kdive_race_unregister_netdev(priv);

	/* only reached when the race did not fire */
	del_timer_sync(&priv->intr_timer);
	cancel_work_sync(&priv->reset_wk);
	cancel_work_sync(&priv->link_check_wk);
}

static void __exit kdive_race_exit(void)
{
	struct kdive_race_priv *priv = kdive_race_dev;

	if (kdive_race_proc)
		proc_remove(kdive_race_proc);
	if (!strcmp(mode, "uaf"))
		kdive_race_remove_uaf(priv);
	else
		kdive_race_remove(priv);
	kfree(priv->descmem.virt);
	free_netdev(priv->dev);
}

module_init(kdive_race_init);
module_exit(kdive_race_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kdive lab: alx reset/remove race, hung-task, stack-end and use-after-free reproducer");
