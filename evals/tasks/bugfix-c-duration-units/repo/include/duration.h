#ifndef TIMESPEC_DURATION_H
#define TIMESPEC_DURATION_H

#include <stddef.h>

/* Result codes of duration_parse. */
enum duration_status {
    DURATION_OK = 0,
    DURATION_EMPTY = 1,      /* nothing but spaces */
    DURATION_BAD_UNIT = 2,   /* a letter other than d, h, m, s */
    DURATION_NO_NUMBER = 3,  /* a unit with no number before it, or a number with no unit */
    DURATION_OVERFLOW = 4    /* more seconds than a long holds */
};

/*
 * Parses a duration written as numbers with units, largest first or in any order:
 * "90s", "15m", "1h30m", "2d 4h". Spaces between parts are allowed.
 * On DURATION_OK, *seconds holds the total.
 */
enum duration_status duration_parse(const char *text, long *seconds);

/*
 * Formats seconds as the shortest "1d2h3m4s" form, leaving out zero parts ("0s" for zero).
 * Writes at most size bytes including the terminating NUL; returns the length the full text
 * needs, like snprintf.
 */
int duration_format(long seconds, char *out, size_t size);

#endif
