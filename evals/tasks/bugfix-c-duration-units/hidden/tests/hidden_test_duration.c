#include "duration.h"
#include "check.h"

static long parsed(const char *text)
{
    long seconds = -1;
    CHECK_EQ_LONG(DURATION_OK, duration_parse(text, &seconds));
    return seconds;
}

static void test_compound_durations(void)
{
    CHECK_EQ_LONG(5400, parsed("1h30m"));
    CHECK_EQ_LONG(93600, parsed("1d 2h"));
    CHECK_EQ_LONG(3723, parsed("1h2m3s"));
    CHECK_EQ_LONG(630, parsed("10m30s"));
    CHECK_EQ_LONG(5400, parsed("30m1h"));
}

static void test_round_trip(void)
{
    static const long values[] = { 1, 59, 61, 3600, 5400, 90061, 200000 };
    char text[32];
    size_t i;
    for (i = 0; i < sizeof values / sizeof values[0]; i++) {
        duration_format(values[i], text, sizeof text);
        CHECK_EQ_LONG(values[i], parsed(text));
    }
}

static void test_still_rejected(void)
{
    long seconds = 0;
    CHECK_EQ_LONG(DURATION_NO_NUMBER, duration_parse("1h30", &seconds));
    CHECK_EQ_LONG(DURATION_NO_NUMBER, duration_parse("1hm", &seconds));
    CHECK_EQ_LONG(DURATION_BAD_UNIT, duration_parse("1h5x", &seconds));
}

int main(void)
{
    RUN(test_compound_durations);
    RUN(test_round_trip);
    RUN(test_still_rejected);
    return CHECK_REPORT();
}
