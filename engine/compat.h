/* io_uring constants and helpers that Debian's liburing 2.3 lacks but the
 * kernel (6.x) has. Each is probed at ring setup (engine/ring.c) and has a
 * fallback; nothing here is used without its probe. Engine-internal. */
#ifndef CR_ENGINE_COMPAT_H
#define CR_ENGINE_COMPAT_H

#include <liburing.h>
#include <stdint.h>
#include <string.h>

/* Recv/send bundles (6.10). Probed with the feature bit; unused fallback. */
#ifndef IORING_RECVSEND_BUNDLE
#define IORING_RECVSEND_BUNDLE (1U << 4)
#endif
#ifndef IORING_FEAT_RECVSEND_BUNDLE
#define IORING_FEAT_RECVSEND_BUNDLE (1U << 14)
#endif
/* Incremental provided buffers (6.12). */
#ifndef IOU_PBUF_RING_INC
#define IOU_PBUF_RING_INC 2
#endif
#ifndef IORING_CQE_F_BUF_MORE
#define IORING_CQE_F_BUF_MORE (1U << 4)
#endif
/* Zero-copy send: ask the notification to say whether the kernel copied
 * (6.2). On loopback it always does. */
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif
/* Turning a direct descriptor into a normal one (6.8): used only to read the
 * peer address of an accepted socket with getpeername(). */
#define CR_IORING_OP_FIXED_FD_INSTALL 54
#ifndef IORING_FIXED_FD_NO_CLOEXEC
#define IORING_FIXED_FD_NO_CLOEXEC (1U << 0)
#endif

static inline void cr__prep_fixed_fd_install(struct io_uring_sqe *sqe, int fixed_fd)
{
	io_uring_prep_rw(CR_IORING_OP_FIXED_FD_INSTALL, sqe, fixed_fd, NULL, 0, 0);
	/* The kernel requires IOSQE_FIXED_FILE on this opcode; install_fd_flags
	 * shares rw_flags' slot. 0 means O_CLOEXEC. */
	sqe->flags = IOSQE_FIXED_FILE;
	sqe->rw_flags = 0;
}

/* getsockopt on a socket through IORING_OP_URING_CMD (6.7), which works on
 * a direct descriptor: SO_PEERNAME reads an accepted socket's peer address
 * in one SQE, without installing a normal descriptor. The kernel's SQE
 * names (cmd_op, level, optname, optlen, optval) overlay liburing 2.3's
 * off, addr, file_index and addr3; written by offset so byte order does
 * not matter. The first refusal (older kernel) switches the engine to the
 * FIXED_FD_INSTALL + getpeername() path. */
#define CR_SOCKET_URING_OP_GETSOCKOPT 2
static inline void cr__prep_getsockopt(struct io_uring_sqe *sqe, int fd, uint32_t level,
				      uint32_t optname, void *optval, uint32_t optlen)
{
	uint32_t cmd[2] = { CR_SOCKET_URING_OP_GETSOCKOPT, 0 }, lvl[2] = { level, optname };
	uint64_t val = (uint64_t)(uintptr_t)optval;
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	memcpy(&sqe->off, cmd, sizeof cmd);   /* cmd_op, __pad1 */
	memcpy(&sqe->addr, lvl, sizeof lvl);  /* level, optname */
	sqe->file_index = optlen;             /* optlen */
	sqe->addr3 = val;                     /* optval */
}
/* liburing 2.3 declares io_uring_enable_rings() but its shared library does
 * not export it: issue the register call directly. */
static inline int cr__enable_rings(struct io_uring *ring)
{
	return io_uring_register(ring->ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
}

#endif
