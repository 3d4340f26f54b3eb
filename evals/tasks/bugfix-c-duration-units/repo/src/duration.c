#include "duration.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>

static long unit_seconds(char unit)
{
    switch (unit) {
    case 'd': return 86400L;
    case 'h': return 3600L;
    case 'm': return 60L;
    case 's': return 1L;
    default: return 0L;
    }
}

enum duration_status duration_parse(const char *text, long *seconds)
{
    long total = 0;
    long number = 0;
    int digits = 0;
    int parts = 0;
    const char *p;

    for (p = text; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (isspace(c))
            continue;
        if (isdigit(c)) {
            if (number > (LONG_MAX - (c - '0')) / 10)
                return DURATION_OVERFLOW;
            number = number * 10 + (c - '0');
            digits++;
            continue;
        }
        long unit = unit_seconds((char)tolower(c));
        if (unit == 0)
            return DURATION_BAD_UNIT;
        if (digits == 0)
            return DURATION_NO_NUMBER;
        if (number > (LONG_MAX - total) / unit)
            return DURATION_OVERFLOW;
        total += number * unit;
        digits = 0;
        parts++;
    }
    if (digits > 0)
        return DURATION_NO_NUMBER;
    if (parts == 0)
        return DURATION_EMPTY;
    *seconds = total;
    return DURATION_OK;
}

int duration_format(long seconds, char *out, size_t size)
{
    static const char units[] = { 'd', 'h', 'm', 's' };
    int length = 0;
    size_t i;

    if (seconds == 0)
        return snprintf(out, size, "0s");
    for (i = 0; i < sizeof units; i++) {
        long unit = unit_seconds(units[i]);
        long count = seconds / unit;
        if (count == 0)
            continue;
        seconds -= count * unit;
        int n = snprintf(out + (length < (int)size ? length : (int)size),
                         (size_t)length < size ? size - (size_t)length : 0,
                         "%ld%c", count, units[i]);
        if (n < 0)
            return n;
        length += n;
    }
    return length;
}
