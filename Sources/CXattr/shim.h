#ifndef MEMOFS_CXATTR_SHIM_H
#define MEMOFS_CXATTR_SHIM_H
// Extended attributes (getxattr, setxattr, …), which Glibc's Swift module leaves out.
#include <sys/xattr.h>
#include <sys/stat.h>
static const long memofs_utime_omit = UTIME_OMIT;

// fallocate(2) is declared only under _GNU_SOURCE, which Glibc's Swift module is built
// without: punching a hole (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) through the system
// call itself. Returns -1 and sets errno as fallocate does.
#include <sys/syscall.h>
#include <unistd.h>
static inline int memofs_punch_hole(int fd, long long offset, long long length) {
    return (int)syscall(SYS_fallocate, fd, 0x02 | 0x01, (long long)offset, (long long)length);
}
#endif
