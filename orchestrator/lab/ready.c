/* Waiting for servers from inside the lab: a non-blocking connect per
 * server, made in its machine's network namespace, retried until it is
 * accepted; one poll loop drives them all and the machines' exit reports. */
#define _GNU_SOURCE
#include "lab/ready.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "steps/netlink.h"
#include "util/ipv4.h"

#define RETRY_MS 20
#define MAX_IN_FLIGHT 256

static int start_listen_probe(struct listen_wait *t, struct tb_err *e)
{
	int fd = netns_socket(t->netns, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, e);
	if (fd < 0)
		return -1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(t->port), .sin_addr.s_addr = htonl(t->addr)};
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		t->ready = true;
		close(fd);
		return -2;
	}
	if (errno != EINPROGRESS) {
		t->last_errno = errno;
		close(fd);
		return -2;
	}
	return fd;
}

/* The last line of the log at PATH but the init's report of the
 * workload's end, escaped, or "" (malloc'd): the workload's own last word,
 * or the init's why it could not run it. */
static char *last_words(const char *path)
{
	char buf[4096];
	autoclose int fd = path ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
	off_t end = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
	ssize_t n = end > 0 ? pread(fd, buf, sizeof(buf) - 1, end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0)
			    : -1;
	if (n <= 0)
		return xstrdup("");
	buf[n] = '\0';
	char *found = NULL;
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		/* Not the init's own report of the end, which the message has. */
		if (*line && !(strncmp(line, "testbed init:", 13) == 0 &&
			       (strstr(line, ": workload exited with status ") || strstr(line, ": workload killed by signal "))))
			found = line;
		line = nl ? nl + 1 : NULL;
	}
	return found ? str_escape(found) : xstrdup("");
}

int exit_watch_report(const struct exit_watch *w, struct tb_err *e)
{
	char msg[256];
	ssize_t len = read(w->fd, msg, sizeof(msg) - 1);
	autofree char *words = last_words(w->log);
	const char *sep = *words ? ": " : "";
	if (len <= 0)
		return tb_fail(e, "%s: its init exited%s%s", w->name, sep, words);
	msg[len] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
	return tb_fail(e, "%s: %s%s%s", w->name, msg, sep, words);
}

int wait_listening(struct listen_wait *targets, size_t n, const struct exit_watch *watches, size_t n_watches,
		   int timeout_ms, volatile const int *stop, struct tb_err *e)
{
	long long deadline = now_ms() + timeout_ms;
	int *fds = xcalloc(n, sizeof(*fds));
	long long *next_try = xcalloc(n, sizeof(*next_try));
	struct pollfd *pfds = xcalloc(n + n_watches, sizeof(*pfds));
	size_t *owner = xcalloc(n + n_watches, sizeof(*owner));
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		fds[i] = -1;

	for (;;) {
		size_t pending = 0, in_flight = 0;
		long long now = now_ms();
		for (size_t i = 0; i < n; i++) {
			if (targets[i].ready)
				continue;
			pending++;
			if (fds[i] >= 0) {
				in_flight++;
				continue;
			}
			if (in_flight >= MAX_IN_FLIGHT || now < next_try[i])
				continue;
			int fd = start_listen_probe(&targets[i], e);
			if (fd == -1) {
				rc = -1;
				goto out;
			}
			if (fd >= 0) {
				fds[i] = fd;
				in_flight++;
			} else {
				next_try[i] = now + RETRY_MS;
			}
		}
		if (pending == 0)
			break;
		if (stop && *stop) {
			rc = tb_fail(e, "interrupted");
			goto out;
		}
		if (now >= deadline) {
			char names[512] = "";
			size_t shown = 0;
			for (size_t i = 0; i < n; i++)
				if (!targets[i].ready && shown++ < 5) {
					char addr[16];
					size_t len = strlen(names);
					snprintf(names + len, sizeof(names) - len, "%s%s (%s:%u: %s)", len ? ", " : "",
						 targets[i].name, ipv4_addr_format(targets[i].addr, addr),
						 targets[i].port,
						 targets[i].last_errno ? strerror(targets[i].last_errno) : "no answer");
				}
			rc = tb_fail(e, "%zu server%s not accepting connections after %d s: %s%s", pending,
				     pending == 1 ? "" : "s", timeout_ms / 1000, names, pending > 5 ? ", ..." : "");
			goto out;
		}
		size_t np = 0;
		for (size_t i = 0; i < n; i++)
			if (fds[i] >= 0) {
				pfds[np] = (struct pollfd){.fd = fds[i], .events = POLLOUT};
				owner[np++] = i;
			}
		size_t first_watch = np;
		for (size_t i = 0; i < n_watches; i++)
			pfds[np++] = (struct pollfd){.fd = watches[i].fd, .events = POLLIN};
		int r = poll(pfds, np, RETRY_MS);
		if (r < 0 && errno != EINTR) {
			rc = tb_fail(e, "poll: %s", strerror(errno));
			goto out;
		}
		for (size_t k = first_watch; r > 0 && k < np; k++)
			if (pfds[k].revents) {
				rc = exit_watch_report(&watches[k - first_watch], e);
				goto out;
			}
		for (size_t k = 0; r > 0 && k < first_watch; k++) {
			if (!pfds[k].revents)
				continue;
			size_t i = owner[k];
			int err = 0;
			socklen_t len = sizeof(err);
			getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len);
			if (err == 0) {
				targets[i].ready = true;
			} else {
				targets[i].last_errno = err;
				next_try[i] = now_ms() + RETRY_MS;
			}
			close(fds[i]);
			fds[i] = -1;
		}
	}
out:
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	free(next_try);
	free(pfds);
	free(owner);
	return rc;
}
