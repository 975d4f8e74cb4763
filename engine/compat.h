/* io_uring constants and helpers that Debian's liburing 2.3 lacks but the
 * kernel (6.x) has. Each is probed at ring setup (engine/ring.c) and has a
 * fallback; nothing here is used without its probe. Engine-internal. */
#ifndef CR_ENGINE_COMPAT_H
#define CR_ENGINE_COMPAT_H

#include <liburing.h>

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

static inline void cr_prep_fixed_fd_install(struct io_uring_sqe *sqe, int fixed_fd)
{
	io_uring_prep_rw(CR_IORING_OP_FIXED_FD_INSTALL, sqe, fixed_fd, NULL, 0, 0);
	/* The kernel requires IOSQE_FIXED_FILE on this opcode; install_fd_flags
	 * shares rw_flags' slot. 0 means O_CLOEXEC. */
	sqe->flags = IOSQE_FIXED_FILE;
	sqe->rw_flags = 0;
}

/* liburing 2.3 declares io_uring_enable_rings() but its shared library does
 * not export it: issue the register call directly. */
static inline int cr_enable_rings(struct io_uring *ring)
{
	return io_uring_register(ring->ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
}

#endif
