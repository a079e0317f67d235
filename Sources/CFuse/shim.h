#ifndef MEMOFS_CFUSE_SHIM_H
#define MEMOFS_CFUSE_SHIM_H
// 3.14: fuse_session_loop_mt is a real function taking a fuse_loop_config here
// (with 35 it becomes a macro Swift cannot see).
#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#include <sys/xattr.h>
#include <sys/ioctl.h>
#include <stdint.h>
#include <errno.h>

// FUSE passthrough (kernel protocol 7.40, Linux 6.9+). libfuse 3.14 predates it, so the
// two /dev/fuse ioctls it needs are spelled out here; the values are the kernel's ABI
// (FUSE_DEV_IOC_MAGIC 229, numbers 1 and 2).
struct memofs_backing_map {
    int32_t fd;
    uint32_t flags;
    uint64_t padding;
};

/// Registers `fd` as a backing file on the FUSE connection `device`: the backing id, or -errno.
static inline int memofs_backing_open(int device, int fd) {
    struct memofs_backing_map map = { fd, 0, 0 };
    int id = ioctl(device, _IOW(229, 1, struct memofs_backing_map), &map);
    return id < 0 ? -errno : id;
}

/// Drops a backing id; files already open through it keep their own reference.
static inline int memofs_backing_close(int device, int id) {
    uint32_t value = (uint32_t)id;
    return ioctl(device, _IOW(229, 2, uint32_t), &value) < 0 ? -errno : 0;
}
#endif
