#ifndef MEMOFS_CCRYPTO_SHIM_H
#define MEMOFS_CCRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/hmac.h>
#endif
