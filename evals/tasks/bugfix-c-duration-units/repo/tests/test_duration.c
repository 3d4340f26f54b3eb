#include "duration.h"
#include "check.h"

static long parsed(const char *text)
{
    long seconds = -1;
    CHECK_EQ_LONG(DURATION_OK, duration_parse(text, &seconds));
    return seconds;
}

static void test_single_units(void)
{
    CHECK_EQ_LONG(90, parsed("90s"));
    CHECK_EQ_LONG(900, parsed("15m"));
    CHECK_EQ_LONG(7200, parsed("2h"));
    CHECK_EQ_LONG(86400, parsed("1d"));
    CHECK_EQ_LONG(120, parsed(" 2M "));
}

static void test_errors(void)
{
    long seconds = 0;
    CHECK_EQ_LONG(DURATION_EMPTY, duration_parse("   ", &seconds));
    CHECK_EQ_LONG(DURATION_BAD_UNIT, duration_parse("5w", &seconds));
    CHECK_EQ_LONG(DURATION_NO_NUMBER, duration_parse("h", &seconds));
    CHECK_EQ_LONG(DURATION_NO_NUMBER, duration_parse("12", &seconds));
    CHECK_EQ_LONG(DURATION_OVERFLOW, duration_parse("99999999999999999999s", &seconds));
}

static void test_format(void)
{
    char text[32];
    duration_format(0, text, sizeof text);
    CHECK_EQ_STR("0s", text);
    duration_format(5400, text, sizeof text);
    CHECK_EQ_STR("1h30m", text);
    duration_format(90061, text, sizeof text);
    CHECK_EQ_STR("1d1h1m1s", text);
    CHECK_EQ_LONG(5, duration_format(5400, text, 3));
    CHECK_EQ_STR("1h", text);
}

int main(void)
{
    RUN(test_single_units);
    RUN(test_errors);
    RUN(test_format);
    return CHECK_REPORT();
}
