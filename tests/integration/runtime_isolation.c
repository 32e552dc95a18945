/* runtime_isolation: the sandbox as seen from inside the runtime and from
 * outside. Needs root (CI runs as root); skipped (exit 77) otherwise.
 *
 * Inside: --self-test-sandbox applies the sandbox exactly as in production
 * (--user nobody, no_new_privs, Landlock, seccomp), then tries what it must
 * not be able to do and prints SELFTEST lines: a TCP socket (EPERM), writing
 * the camera's shm (EACCES), reading a file outside the allowed folders
 * (EACCES), and what it must still do (a Unix socket, reading the shm).
 * Outside: the real server runs as uid 65534 (/proc/<pid>/status), serves an
 * inference from an export group-owned by nogroup, refuses a client whose uid
 * and groups are not allowed, and lets one in through a supplementary group. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <grp.h>

#include <cmocka.h>

#include "runtime_harness.h"

static struct rt_export g_e;
static uint64_t g_seq;
static char g_secret[512];

static void test_self_test(void **state)
{
	(void)state;
	char model[600];
	snprintf(model, sizeof(model), "%s/blazeface-front", rt_models_root());
	const char *args[] = { "--user", "nobody", "--self-test-sandbox", "--self-test-shm", g_e.camera_id,
			       "--self-test-file", g_secret, NULL };
	struct rt_proc p;
	assert_int_equal(rt_start_env(&p, "iso-self", model, args, NULL, 30000), 1);
	int rc = rt_wait_exit(&p, 1000);
	FILE *f = fopen(p.out, "r");
	char line[512];
	while (f && fgets(line, sizeof(line), f))
		fputs(line, stderr);
	if (f)
		fclose(f);
	if (rc != 0)
		rt_dump_log(&p);
	assert_int_equal(rc, 0);
	assert_true(rt_file_contains(p.out, "SELFTEST uid=65534 euid=65534 gid=65534"));
	assert_true(rt_file_contains(p.out, "SELFTEST no_new_privs=1"));
	assert_true(rt_file_contains(p.out, "SELFTEST tcp_socket=EPERM"));
	assert_true(rt_file_contains(p.out, "SELFTEST udp6_socket=EPERM"));
	assert_true(rt_file_contains(p.out, "SELFTEST unix_socket=OK"));
	assert_true(rt_file_contains(p.out, "SELFTEST shm_read=OK"));
	assert_true(rt_file_contains(p.out, "SELFTEST shm_write=EACCES"));
	assert_true(rt_file_contains(p.out, "SELFTEST model_read=OK"));
	if (rt_file_contains(p.out, "SELFTEST landlock=enforced")) {
		assert_true(rt_file_contains(p.out, "SELFTEST outside_read=EACCES"));
		assert_true(rt_file_contains(p.out, "SELFTEST model_dir_write=EACCES"));
	} else {
		fprintf(stderr, "Landlock not available on this kernel: outside-file check not enforced\n");
	}
}

static void test_server_as_nobody(void **state)
{
	(void)state;
	char model[600];
	snprintf(model, sizeof(model), "%s/blazeface-front", rt_models_root());
	const char *args[] = { "--user", "nobody", NULL };
	struct rt_proc p;
	int r = rt_start(&p, "iso-srv", model, args);
	if (r != 0)
		rt_dump_log(&p);
	assert_int_equal(r, 0);

	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)p.pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	int uid_ok = 0, gid_ok = 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Uid:", 4) == 0)
			uid_ok = strcmp(line, "Uid:\t65534\t65534\t65534\t65534\n") == 0;
		if (strncmp(line, "Gid:", 4) == 0)
			gid_ok = strcmp(line, "Gid:\t65534\t65534\t65534\t65534\n") == 0;
		if (strncmp(line, "NoNewPrivs:", 11) == 0)
			assert_string_equal(line, "NoNewPrivs:\t1\n");
		if (strncmp(line, "Seccomp:", 8) == 0)
			assert_string_equal(line, "Seccomp:\t2\n");
	}
	fclose(f);
	assert_true(uid_ok);
	assert_true(gid_ok);

	struct stat st;
	assert_int_equal(stat(p.sock, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_mode & 0777, 0660);

	/* Root is allowed by default, and the runtime reads the group-readable shm. */
	struct ruth_ipc_client *c = NULL;
	assert_int_equal(ruth_ipc_client_connect(&c, p.sock, "iso", 5000, NULL), 0);
	struct ruth_ipc_infer_request req;
	rt_infer_req(&req, g_e.camera_id, g_e.generation, g_seq);
	static struct ruth_ipc_msg reply;
	ruth_ipc_msg_init(&reply);
	assert_int_equal(ruth_ipc_client_infer(c, &req, &reply, 10000), 0);
	assert_int_equal(reply.u.infer_response.status, RUTH_IPC_OK);
	assert_true(reply.u.infer_response.n_detections >= 1);
	ruth_ipc_client_close(&c);

	/* A client with another uid/gid gets no handshake. */
	pid_t pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(12345) < 0 || setuid(12345) < 0)
			_exit(3);
		struct ruth_ipc_client *c2 = NULL;
		int rr = ruth_ipc_client_connect(&c2, p.sock, "intruder", 2000, NULL);
		_exit(rr == 0 ? 1 : 0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* The same uid with the runtime's group as a supplementary group is let in
	 * (socket mode 0660, SO_PEERGROUPS). */
	pid = fork();
	if (pid == 0) {
		gid_t g = 65534;
		if (setgroups(1, &g) < 0 || setgid(12345) < 0 || setuid(12345) < 0)
			_exit(3);
		struct ruth_ipc_client *c3 = NULL;
		int rr = ruth_ipc_client_connect(&c3, p.sock, "member", 2000, NULL);
		ruth_ipc_client_close(&c3);
		_exit(rr == 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	assert_int_equal(rt_stop(&p), 0);
	assert_false(p.sock_left);
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "runtime_isolation needs root (it drops to nobody); skipped\n");
		return 77;
	}
	char img[600], cam[48], dir[256];
	snprintf(img, sizeof(img), "%s/messi5.jpg", rt_media_dir());
	snprintf(cam, sizeof(cam), "rt-iso-%d", (int)getpid());
	if (rt_export_open_crop(&g_e, cam, img, 4, "nogroup", 160, 34, 160, 160) < 0)
		return 1;
	g_seq = (uint64_t)rt_export_publish(&g_e);
	if (rt_tmpdir(dir, sizeof(dir), "iso-secret") < 0)
		return 1;
	snprintf(g_secret, sizeof(g_secret), "%s/secret.txt", dir);
	FILE *f = fopen(g_secret, "w");
	if (!f)
		return 1;
	fputs("not for the runtime\n", f);
	fclose(f);
	chmod(g_secret, 0644); /* readable by everyone: only Landlock stops the read */

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self_test),
		cmocka_unit_test(test_server_as_nobody),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rt_export_close(&g_e);
	return rc;
}
