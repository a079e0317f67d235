#ifndef MEMOFS_CUSRSCTP_SHIM_H
#define MEMOFS_CUSRSCTP_SHIM_H
#include <sys/socket.h>
#include <usrsctp.h>
#endif
