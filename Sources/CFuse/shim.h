#ifndef MEMOFS_CFUSE_SHIM_H
#define MEMOFS_CFUSE_SHIM_H
// 3.14: fuse_session_loop_mt is a real function taking a fuse_loop_config here
// (with 35 it becomes a macro Swift cannot see).
#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#include <sys/xattr.h>
#endif
