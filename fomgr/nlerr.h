/* libnl's error codes (NLE_*) as negative errno values: the one place fomgr
 * translates them, so every caller decides on errno alone (-EEXIST on add and
 * -EADDRNOTAVAIL on delete mean "already done", -ENOMEM is ENOMEM everywhere). */
#ifndef FOMGR_NLERR_H
#define FOMGR_NLERR_H

/* 0 for 0; a negative errno for any libnl failure (given negative, as libnl
 * returns it, or positive); -EIO for a code libnl does not define. */
int nlerr_errno(int nlerr);

#endif
