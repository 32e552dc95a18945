/* sd_notify.h: systemd readiness notification without libsystemd.
 *
 * Every daemon here (vasd, ruth-ai-core, ruth-model-runtime) runs under
 * Type=notify units. systemd passes NOTIFY_SOCKET: a path or an abstract name
 * written with a leading '@'. ksd_notify_open() opens and connects the datagram
 * socket once, at start: the model runtime must do it before its sandbox, after
 * which it may create no socket and open no file. Each message is one datagram
 * of "KEY=VALUE\n" lines ("READY=1\n", "STATUS=...\n", "STOPPING=1\n").
 *
 * Thread safety: send on one fd from any thread (one datagram per call). */
#ifndef KERNEL_COMMON_SD_NOTIFY_H
#define KERNEL_COMMON_SD_NOTIFY_H

/* A connected fd, or -1 when NOTIFY_SOCKET is unset or unusable (not under systemd). */
int ksd_notify_open(void);

/* Send msg; 0 on success or when fd is -1, a negative errno otherwise. */
int ksd_notify_send(int fd, const char *msg);

#endif
