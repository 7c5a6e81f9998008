/* kdive-busy: the lab's `busy` scenario helper, run by lab/guest/init in the crashing kernel.
 * Built on the host at lab build time: x86_64-linux-gnu-gcc-12 -static -O2 -pthread.
 *
 *   kdive-busy threads        a thread group: the main thread joins, and 3 named threads wait
 *                             in nanosleep (busy-sleep), a condition variable (busy-cond) and a
 *                             pipe read (busy-read)
 *   kdive-busy sockets        TCP listener 127.0.0.1:5555 and an established connection to it
 *                             (both ends held here), a UDP socket on 127.0.0.1:5556, a TCP6
 *                             listener on [::1]:5557 (when IPv6 is up), a UNIX stream listener
 *                             /tmp/kdive-busy.sock with a connection to it, a UNIX datagram pair
 *   kdive-busy swap KB        KB of anonymous memory, touched, then pushed out to swap with
 *                             madvise(MADV_PAGEOUT) (no memory pressure needed)
 *   kdive-busy ipc            System V IPC: a 256 KB shared memory segment (key 0x6b646976, 16
 *                             pages touched), a private 8 KB one removed while attached ("dest"),
 *                             a 3-semaphore array owned by uid 1000 (key 0x6b646977) and a message
 *                             queue holding two messages, 100 and 28 bytes (key 0x6b646978);
 *                             prints ipc_shm_id=, ipc_shm_dest_id=, ipc_sem_id=, ipc_msg_id=
 *
 * Each mode prints "KDIVE: busy: <mode> ready ..." on stdout, creates /tmp/kdive-busy.<mode>.ready
 * when set up, and then waits forever. Any failure prints "KDIVE: FAIL busy: ..." and exits 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

static void die(const char *what)
{
	printf("KDIVE: FAIL busy: %s: %s\n", what, strerror(errno));
	fflush(stdout);
	exit(1);
}

static void ready(const char *mode)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/kdive-busy.%s.ready", mode);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0)
		die(path);
	close(fd);
	fflush(stdout);
}

static void forever(void)
{
	for (;;)
		pause();
}

/* ---- threads ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int pipefd[2];

static void *t_sleep(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, "busy-sleep");
	for (;;) {
		struct timespec ts = {100000, 0};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void *t_cond(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, "busy-cond");
	pthread_mutex_lock(&mu);
	for (;;)
		pthread_cond_wait(&cv, &mu);
	return NULL;
}

static void *t_read(void *arg)
{
	char c;

	(void)arg;
	prctl(PR_SET_NAME, "busy-read");
	for (;;)
		if (read(pipefd[0], &c, 1) <= 0 && errno != EINTR)
			break;
	return NULL;
}

static int mode_threads(void)
{
	pthread_t t[3];
	void *(*fn[3])(void *) = {t_sleep, t_cond, t_read};
	int i;

	if (pipe(pipefd))
		die("pipe");
	for (i = 0; i < 3; i++)
		if ((errno = pthread_create(&t[i], NULL, fn[i], NULL)))
			die("pthread_create");
	usleep(200000);
	printf("KDIVE: busy: threads ready pid=%d threads=4\n", getpid());
	ready("threads");
	pthread_join(t[0], NULL);
	return 0;
}

/* ---- sockets ---- */

static int tcp_pair(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(5555)};
	int one = 1, l, c, s;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((l = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		die("socket tcp");
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (void *)&a, sizeof(a)) || listen(l, 4))
		die("bind/listen 127.0.0.1:5555");
	if ((c = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		die("socket tcp client");
	if (connect(c, (void *)&a, sizeof(a)))
		die("connect 127.0.0.1:5555");
	if ((s = accept(l, NULL, NULL)) < 0)
		die("accept 127.0.0.1:5555");
	if (write(c, "kdive\n", 6) != 6)
		die("write tcp");
	return s;
}

static void udp(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(5556)};
	int u;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((u = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		die("socket udp");
	if (bind(u, (void *)&a, sizeof(a)))
		die("bind 127.0.0.1:5556");
}

static int tcp6(void)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(5557)};
	int l;

	a.sin6_addr = in6addr_loopback;
	if ((l = socket(AF_INET6, SOCK_STREAM, 0)) < 0)
		return 0;
	if (bind(l, (void *)&a, sizeof(a)) || listen(l, 4)) {
		close(l);
		return 0;
	}
	return 1;
}

static void unix_pair(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int l, c, s, dg[2];

	strcpy(a.sun_path, "/tmp/kdive-busy.sock");
	unlink(a.sun_path);
	if ((l = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		die("socket unix");
	if (bind(l, (void *)&a, sizeof(a)) || listen(l, 4))
		die("bind/listen /tmp/kdive-busy.sock");
	if ((c = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		die("socket unix client");
	if (connect(c, (void *)&a, sizeof(a)))
		die("connect /tmp/kdive-busy.sock");
	if ((s = accept(l, NULL, NULL)) < 0)
		die("accept /tmp/kdive-busy.sock");
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, dg))
		die("socketpair");
	(void)s;
}

static int mode_sockets(void)
{
	int v6;

	tcp_pair();
	udp();
	v6 = tcp6();
	unix_pair();
	printf("KDIVE: busy: sockets ready pid=%d tcp6=%d\n", getpid(), v6);
	ready("sockets");
	forever();
	return 0;
}

/* ---- swap ---- */

static int mode_swap(long kb)
{
	size_t len = (size_t)kb * 1024, i;
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	for (i = 0; i < len; i += pg)
		p[i] = (unsigned char)(i / pg) | 1;
	if (madvise(p, len, MADV_PAGEOUT))
		die("madvise(MADV_PAGEOUT)");
	printf("KDIVE: busy: swap ready pid=%d touched=%ld kB\n", getpid(), kb);
	ready("swap");
	forever();
	return 0;
}

static int mode_ipc(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct {
		long mtype;
		char mtext[100];
	} msg = { 1, "kdive" };
	struct semid_ds sds;
	unsigned char *p;
	int shm, dest, sem, q, i;

	shm = shmget(0x6b646976, 256 * 1024, IPC_CREAT | IPC_EXCL | 0640);
	if (shm < 0)
		die("shmget");
	p = shmat(shm, NULL, 0);
	if (p == (void *)-1)
		die("shmat");
	for (i = 0; i < 16; i++)
		p[i * pg] = 1;
	dest = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
	if (dest < 0)
		die("shmget private");
	if (shmat(dest, NULL, 0) == (void *)-1)
		die("shmat private");
	if (shmctl(dest, IPC_RMID, NULL))
		die("shmctl IPC_RMID");
	sem = semget(0x6b646977, 3, IPC_CREAT | IPC_EXCL | 0600);
	if (sem < 0)
		die("semget");
	memset(&sds, 0, sizeof(sds));
	sds.sem_perm.uid = 1000;
	sds.sem_perm.gid = 1000;
	sds.sem_perm.mode = 0660;
	if (semctl(sem, 0, IPC_SET, &sds))
		die("semctl IPC_SET");
	q = msgget(0x6b646978, IPC_CREAT | IPC_EXCL | 0644);
	if (q < 0)
		die("msgget");
	if (msgsnd(q, &msg, 100, 0) || msgsnd(q, &msg, 28, 0))
		die("msgsnd");
	printf("KDIVE: busy: ipc_shm_id=%d\n", shm);
	printf("KDIVE: busy: ipc_shm_dest_id=%d\n", dest);
	printf("KDIVE: busy: ipc_sem_id=%d\n", sem);
	printf("KDIVE: busy: ipc_msg_id=%d\n", q);
	printf("KDIVE: busy: ipc ready pid=%d\n", getpid());
	ready("ipc");
	forever();
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "threads"))
		return mode_threads();
	if (argc >= 2 && !strcmp(argv[1], "sockets"))
		return mode_sockets();
	if (argc >= 3 && !strcmp(argv[1], "swap"))
		return mode_swap(atol(argv[2]));
	if (argc >= 2 && !strcmp(argv[1], "ipc"))
		return mode_ipc();
	fprintf(stderr, "usage: kdive-busy threads | sockets | swap KB | ipc\n");
	return 2;
}
