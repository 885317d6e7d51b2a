/* A classic BPF program on a socket (SO_ATTACH_FILTER): the packet sockets of
 * the knet watch, the conflict watch and the RFC 5227 probe keep only the frames
 * they read, in the kernel. */
#ifndef FO_SOCKFILTER_H
#define FO_SOCKFILTER_H

#include <linux/filter.h>
#include <stddef.h>

/* Attaches (or replaces, without waiting) the n instructions of code on fd.
 * 0 or -errno. */
int sockfilter_attach(int fd, const struct sock_filter *code, size_t n);

#endif
