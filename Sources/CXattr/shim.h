#ifndef MEMOFS_CXATTR_SHIM_H
#define MEMOFS_CXATTR_SHIM_H
// Extended attributes (getxattr, setxattr, …), which Glibc's Swift module leaves out.
#include <sys/xattr.h>
#include <sys/stat.h>
static const long memofs_utime_omit = UTIME_OMIT;
#endif
