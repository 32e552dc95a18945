/* runtime_notify: READY=1 (and STATUS=) arrive on a NOTIFY_SOCKET created by
 * the test, for a filesystem path and for an abstract ('@') name, as systemd's
 * Type=notify expects; and STOPPING=1 on SIGTERM. */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime_harness.h"

/* Collect datagrams until one contains `want` (bounded). */
static int wait_datagram(int fd, const char *want, char *got, size_t cap, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 100) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		ssize_t n = recv(fd, got, cap - 1, 0);
		if (n <= 0)
			continue;
		got[n] = '\0';
		fprintf(stderr, "notify datagram: %s", got);
		if (strstr(got, want))
			return 1;
	}
	return 0;
}

static void run_notify(const char *addr_text, int abstract)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(addr_text);
	memcpy(sa.sun_path, addr_text, len);
	if (abstract)
		sa.sun_path[0] = '\0';
	socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (abstract ? 0 : 1));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, alen), 0);

	char env[200];
	snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", addr_text);
	const char *envs[] = { env, NULL };
	const char *args[] = { "--force-stub", NULL };
	char model[600];
	snprintf(model, sizeof(model), "%s/blazeface-front", rt_models_root());
	struct rt_proc p;
	assert_int_equal(rt_start_env(&p, "notify", model, args, envs, 30000), 0);
	char got[512];
	assert_true(wait_datagram(fd, "READY=1", got, sizeof(got), 5000));
	assert_non_null(strstr(got, "STATUS=serving mode=stub"));
	assert_int_equal(rt_stop(&p), 0);
	assert_true(wait_datagram(fd, "STOPPING=1", got, sizeof(got), 5000));
	close(fd);
	if (!abstract)
		unlink(addr_text);
}

static void test_notify_path(void **state)
{
	(void)state;
	char dir[256], path[300];
	assert_int_equal(rt_tmpdir(dir, sizeof(dir), "notify"), 0);
	snprintf(path, sizeof(path), "%s/notify.sock", dir);
	run_notify(path, 0);
}

static void test_notify_abstract(void **state)
{
	(void)state;
	char name[64];
	snprintf(name, sizeof(name), "@ruth-runtime-test-%d", (int)getpid());
	run_notify(name, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify_path),
		cmocka_unit_test(test_notify_abstract),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
