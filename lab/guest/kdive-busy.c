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
#include <sys/prctl.h>
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

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "threads"))
		return mode_threads();
	if (argc >= 2 && !strcmp(argv[1], "sockets"))
		return mode_sockets();
	if (argc >= 3 && !strcmp(argv[1], "swap"))
		return mode_swap(atol(argv[2]));
	fprintf(stderr, "usage: kdive-busy threads | sockets | swap KB\n");
	return 2;
}
