/* sandbox.c: isolation enforced from inside the process.
 *
 * Applied once, after the model is loaded (weights read, providers loaded,
 * warm-up done) and before the socket is bound, in this order:
 *   1. --user NAME: initgroups + setresgid + setresuid (root drops all
 *      capabilities with the uid change). Refused clearly when not permitted.
 *   2. prctl(PR_SET_NO_NEW_PRIVS): nothing exec'd can regain privileges, and
 *      unprivileged Landlock/seccomp are allowed.
 *   3. Landlock (raw syscalls; Debian 12's headers stop at ABI 2, the kernels
 *      here speak ABI 7, so the constants are defined below): files only under
 *      the model folder (read), the socket folder (read, write, make/remove the
 *      socket), /dev/shm (read), ONNX Runtime's library folder (read, execute:
 *      ORT may dlopen provider libraries lazily), /proc/<pid> (read: glibc and
 *      the sanitizers read their own maps) and /sys/devices/system/cpu (read).
 *      With ABI >= 4 TCP bind/connect are denied too. Unavailable: logged, not
 *      fatal (the other layers still hold).
 *   4. seccomp (libseccomp): socket()/socketpair() only for AF_UNIX (others
 *      fail with EPERM); mount, ptrace, module loading, bpf, namespaces,
 *      io_uring and friends fail with EPERM. Other architectures' syscall ABIs
 *      are killed (libseccomp's default bad-arch action).
 * The shared memory is opened O_RDONLY and mapped PROT_READ by the reader
 * library; Landlock and the file mode (0640, group-readable) make a write open
 * fail as well. */
#include <errno.h>
#include <fcntl.h>
#include <dlfcn.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <onnxruntime_c_api.h>

#include "runtime.h"

/* ---------------------------------------------------------------- Landlock ABI */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif
#define RUTH_LL_CREATE_RULESET_VERSION (1u << 0)
#define RUTH_LL_RULE_PATH_BENEATH 1

#define LL_FS_EXECUTE (1ull << 0)
#define LL_FS_WRITE_FILE (1ull << 1)
#define LL_FS_READ_FILE (1ull << 2)
#define LL_FS_READ_DIR (1ull << 3)
#define LL_FS_REMOVE_DIR (1ull << 4)
#define LL_FS_REMOVE_FILE (1ull << 5)
#define LL_FS_MAKE_CHAR (1ull << 6)
#define LL_FS_MAKE_DIR (1ull << 7)
#define LL_FS_MAKE_REG (1ull << 8)
#define LL_FS_MAKE_SOCK (1ull << 9)
#define LL_FS_MAKE_FIFO (1ull << 10)
#define LL_FS_MAKE_BLOCK (1ull << 11)
#define LL_FS_MAKE_SYM (1ull << 12)
#define LL_FS_REFER (1ull << 13)     /* ABI 2 */
#define LL_FS_TRUNCATE (1ull << 14)  /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ull << 15) /* ABI 5 */
#define LL_NET_BIND_TCP (1ull << 0)  /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ull << 1)

/* Our own names, so a future <linux/landlock.h> cannot clash. Passing a size
 * that matches the ABI lets old kernels accept the struct. */
struct ruth_ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
};

struct ruth_ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

static int ll_abi(void)
{
	long v = syscall(__NR_landlock_create_ruleset, NULL, 0, RUTH_LL_CREATE_RULESET_VERSION);
	return v < 0 ? -errno : (int)v;
}

static int ll_add(struct ruth_rt *rt, int ruleset, const char *path, uint64_t access, uint64_t handled)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		KLOG_DBG(&rt->log, "landlock: skipping %s: %s", path, strerror(errno));
		return 0; /* a folder that does not exist needs no rule */
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		access &= LL_FS_EXECUTE | LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV;
	struct ruth_ll_path_beneath_attr pb = { .allowed_access = access & handled, .parent_fd = fd };
	long r = syscall(__NR_landlock_add_rule, ruleset, RUTH_LL_RULE_PATH_BENEATH, &pb, 0);
	int e = errno;
	close(fd);
	if (r < 0) {
		KLOG_ERR(&rt->log, "landlock: rule for %s: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

static int apply_landlock(struct ruth_rt *rt)
{
	int abi = ll_abi();
	if (abi < 1) {
		snprintf(rt->landlock_status, sizeof(rt->landlock_status), "unavailable (%s)", strerror(-abi));
		KLOG_WARN(&rt->log, "Landlock unavailable (%s): file access is limited by the user and seccomp only",
			  strerror(-abi));
		return 0;
	}
	uint64_t fs = LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_READ_DIR | LL_FS_REMOVE_DIR |
		      LL_FS_REMOVE_FILE | LL_FS_MAKE_CHAR | LL_FS_MAKE_DIR | LL_FS_MAKE_REG | LL_FS_MAKE_SOCK |
		      LL_FS_MAKE_FIFO | LL_FS_MAKE_BLOCK | LL_FS_MAKE_SYM;
	if (abi >= 2)
		fs |= LL_FS_REFER;
	if (abi >= 3)
		fs |= LL_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LL_FS_IOCTL_DEV;
	struct ruth_ll_ruleset_attr attr = { .handled_access_fs = fs };
	size_t attr_size = sizeof(uint64_t);
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP; /* no rule: all denied */
		attr_size = sizeof(attr);
	}
	int rs = (int)syscall(__NR_landlock_create_ruleset, &attr, attr_size, 0);
	if (rs < 0) {
		int e = errno;
		snprintf(rt->landlock_status, sizeof(rt->landlock_status), "unavailable (%s)", strerror(e));
		KLOG_WARN(&rt->log, "Landlock ruleset: %s; continuing without it", strerror(e));
		return 0;
	}
	const uint64_t rd = LL_FS_READ_FILE | LL_FS_READ_DIR;
	const uint64_t rw = rd | LL_FS_WRITE_FILE | LL_FS_MAKE_SOCK | LL_FS_REMOVE_FILE | LL_FS_TRUNCATE;
	char ort_dir[512] = "";
	Dl_info di;
	if (dladdr((void *)OrtGetApiBase, &di) && di.dli_fname) {
		char tmp[512];
		snprintf(tmp, sizeof(tmp), "%s", di.dli_fname);
		snprintf(ort_dir, sizeof(ort_dir), "%s", dirname(tmp));
	}
	char proc_self[64];
	snprintf(proc_self, sizeof(proc_self), "/proc/%d", (int)getpid());
	int r = 0;
	if ((r = ll_add(rt, rs, rt->cfg.dir, rd | LL_FS_EXECUTE, fs)) < 0 ||
	    (r = ll_add(rt, rs, rt->opt.socket_dir, rw, fs)) < 0 || (r = ll_add(rt, rs, "/dev/shm", rd, fs)) < 0 ||
	    (ort_dir[0] && (r = ll_add(rt, rs, ort_dir, rd | LL_FS_EXECUTE, fs)) < 0) ||
	    (r = ll_add(rt, rs, proc_self, rd, fs)) < 0 || (r = ll_add(rt, rs, "/sys/devices/system/cpu", rd, fs)) < 0)
		goto out;
#if defined(__SANITIZE_ADDRESS__)
	/* Sanitizer builds only: LeakSanitizer reads its suppressions file at exit. */
	const char *lo = getenv("LSAN_OPTIONS");
	const char *sp = lo ? strstr(lo, "suppressions=") : NULL;
	if (sp) {
		char supp[512];
		sp += strlen("suppressions=");
		snprintf(supp, sizeof(supp), "%.*s", (int)strcspn(sp, ":"), sp);
		if ((r = ll_add(rt, rs, supp, LL_FS_READ_FILE, fs)) < 0)
			goto out;
	}
#endif
	if (rt->binfo.mode == RUTH_MODE_GPU) {
		/* CUDA loads kernels and opens /dev/nvidia* lazily: keep the system
		 * libraries and the device nodes reachable in GPU mode. */
		if ((r = ll_add(rt, rs, "/usr/lib", rd | LL_FS_EXECUTE, fs)) < 0 ||
		    (r = ll_add(rt, rs, "/usr/local", rd | LL_FS_EXECUTE, fs)) < 0 ||
		    (r = ll_add(rt, rs, "/dev", rd | LL_FS_WRITE_FILE | LL_FS_IOCTL_DEV, fs)) < 0)
			goto out;
	}
	if (syscall(__NR_landlock_restrict_self, rs, 0) < 0) {
		r = -errno;
		KLOG_ERR(&rt->log, "landlock_restrict_self: %s", strerror(-r));
		goto out;
	}
	snprintf(rt->landlock_status, sizeof(rt->landlock_status), "enforced (ABI %d)", abi);
	KLOG_INFO(&rt->log, "Landlock ABI %d enforced: read %s, /dev/shm; read/write %s", abi, rt->cfg.dir,
		  rt->opt.socket_dir);
out:
	close(rs);
	return r;
}

/* ---------------------------------------------------------------- seccomp */
static int apply_seccomp(struct ruth_rt *rt)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_NE, AF_UNIX));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socketpair), 1,
				     SCMP_A0(SCMP_CMP_NE, AF_UNIX));
	if (r < 0) {
		KLOG_ERR(&rt->log, "seccomp socket rule: %s", strerror(-r));
		seccomp_release(ctx);
		return r;
	}
	static const int deny[] = {
		SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root), SCMP_SYS(chroot), SCMP_SYS(swapon),
		SCMP_SYS(swapoff), SCMP_SYS(reboot), SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load),
		SCMP_SYS(init_module), SCMP_SYS(finit_module), SCMP_SYS(delete_module), SCMP_SYS(bpf),
		SCMP_SYS(userfaultfd), SCMP_SYS(keyctl), SCMP_SYS(add_key), SCMP_SYS(request_key),
		SCMP_SYS(setns), SCMP_SYS(unshare), SCMP_SYS(process_vm_writev), SCMP_SYS(io_uring_setup),
		SCMP_SYS(io_uring_enter), SCMP_SYS(io_uring_register), SCMP_SYS(open_by_handle_at),
		SCMP_SYS(name_to_handle_at), SCMP_SYS(acct), SCMP_SYS(settimeofday), SCMP_SYS(clock_settime),
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
		/* LeakSanitizer stops the world with ptrace at exit, so sanitizer
		 * builds keep ptrace; release builds deny it. */
		SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv),
#endif
	};
	for (size_t i = 0; i < sizeof(deny) / sizeof(deny[0]); i++)
		if (deny[i] >= 0)
			seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), deny[i], 0); /* absent on this arch: fine */
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		KLOG_ERR(&rt->log, "seccomp_load: %s", strerror(-r));
	return r;
}

/* ---------------------------------------------------------------- drop */
int ruth__sandbox_prepare(struct ruth_rt *rt, uid_t *uid, gid_t *gid)
{
	*uid = geteuid();
	*gid = getegid();
	if (rt->opt.user) {
		struct passwd *pw = getpwnam(rt->opt.user);
		if (!pw) {
			KLOG_ERR(&rt->log, "--user %s: no such user", rt->opt.user);
			return -ESRCH;
		}
		if (geteuid() != 0 && pw->pw_uid != geteuid()) {
			KLOG_ERR(&rt->log, "--user %s needs root (running as uid %d)", rt->opt.user, (int)geteuid());
			return -EPERM;
		}
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	}
	/* The socket folder: created (0770, owned by the final user) when missing;
	 * otherwise the operator's (systemd RuntimeDirectory, a compose volume). */
	struct stat st;
	if (stat(rt->opt.socket_dir, &st) < 0) {
		if (errno != ENOENT || mkdir(rt->opt.socket_dir, 0770) < 0) {
			KLOG_ERR(&rt->log, "socket folder %s: %s", rt->opt.socket_dir, strerror(errno));
			return -errno;
		}
		if (geteuid() == 0 && chown(rt->opt.socket_dir, *uid, *gid) < 0) {
			KLOG_ERR(&rt->log, "chown %s: %s", rt->opt.socket_dir, strerror(errno));
			return -errno;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		KLOG_ERR(&rt->log, "socket folder %s is not a folder", rt->opt.socket_dir);
		return -ENOTDIR;
	}
	return 0;
}

int ruth__sandbox_apply(struct ruth_rt *rt, uid_t uid, gid_t gid)
{
	int r;
	if (rt->opt.user && (getuid() != uid || geteuid() != uid || getgid() != gid)) {
		if (initgroups(rt->opt.user, gid) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
			r = -errno;
			KLOG_ERR(&rt->log, "cannot drop privileges to %s (uid %d gid %d): %s", rt->opt.user, (int)uid,
				 (int)gid, strerror(-r));
			return r;
		}
		uid_t ru, eu, su;
		if (getresuid(&ru, &eu, &su) < 0 || ru != uid || eu != uid || su != uid || setuid(0) == 0) {
			KLOG_ERR(&rt->log, "privilege drop to %s did not stick", rt->opt.user);
			return -EPERM;
		}
		KLOG_INFO(&rt->log, "running as %s (uid %d gid %d)", rt->opt.user, (int)uid, (int)gid);
	}
	if (access(rt->opt.socket_dir, W_OK | X_OK) < 0) {
		r = -errno;
		KLOG_ERR(&rt->log, "socket folder %s is not writable by uid %d: %s", rt->opt.socket_dir, (int)geteuid(),
			 strerror(-r));
		return r;
	}
	if (rt->opt.no_sandbox) {
		KLOG_WARN(&rt->log, "--no-sandbox: running WITHOUT no_new_privs, Landlock or seccomp");
		return 0;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		r = -errno;
		KLOG_ERR(&rt->log, "PR_SET_NO_NEW_PRIVS: %s", strerror(-r));
		return r;
	}
	if ((r = apply_landlock(rt)) < 0)
		return r;
	if ((r = apply_seccomp(rt)) < 0)
		return r;
	KLOG_INFO(&rt->log, "sandbox: no_new_privs, seccomp (AF_UNIX sockets only), Landlock %s", rt->landlock_status);
	return 0;
}

/* ---------------------------------------------------------------- self-test */
static const char *errname(int e)
{
	switch (e) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOENT: return "ENOENT";
	case EROFS: return "EROFS";
	default: return strerror(e);
	}
}

static void try_socket(const char *what, int domain, int type)
{
	int fd = socket(domain, type | SOCK_CLOEXEC, 0);
	int e = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	printf("SELFTEST %s=%s\n", what, errname(e));
}

static void try_open(const char *what, const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	int e = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	printf("SELFTEST %s=%s\n", what, errname(e));
}

int ruth__sandbox_self_test(struct ruth_rt *rt)
{
	printf("SELFTEST uid=%d euid=%d gid=%d\n", (int)getuid(), (int)geteuid(), (int)getgid());
	printf("SELFTEST no_new_privs=%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	printf("SELFTEST landlock=%s\n", rt->landlock_status[0] ? rt->landlock_status : "not applied");
	try_socket("tcp_socket", AF_INET, SOCK_STREAM);
	try_socket("udp6_socket", AF_INET6, SOCK_DGRAM);
	try_socket("netlink_socket", AF_NETLINK, SOCK_RAW);
	try_socket("unix_socket", AF_UNIX, SOCK_STREAM);
	if (rt->opt.self_test_shm) {
		char path[128];
		snprintf(path, sizeof(path), "/dev/shm/vas.%s", rt->opt.self_test_shm);
		try_open("shm_read", path, O_RDONLY);
		try_open("shm_write", path, O_RDWR);
	}
	if (rt->opt.self_test_file)
		try_open("outside_read", rt->opt.self_test_file, O_RDONLY);
	try_open("model_read", rt->cfg.yaml_path, O_RDONLY);
	char p[600];
	snprintf(p, sizeof(p), "%s/selftest.tmp", rt->opt.socket_dir);
	try_open("socket_dir_make_file", p, O_WRONLY | O_CREAT | O_TRUNC);
	unlink(p);
	snprintf(p, sizeof(p), "%s/selftest.tmp", rt->cfg.dir);
	try_open("model_dir_write", p, O_WRONLY | O_CREAT | O_TRUNC);
	fflush(stdout);
	return 0;
}
