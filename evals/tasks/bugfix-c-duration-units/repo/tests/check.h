/* The smallest harness that does the job: count checks, print failures, exit non-zero. */
#ifndef TIMESPEC_CHECK_H
#define TIMESPEC_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures = 0;
static int check_count = 0;

#define CHECK(cond)                                                              \
    do {                                                                         \
        check_count++;                                                           \
        if (!(cond)) {                                                           \
            check_failures++;                                                    \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)

#define CHECK_EQ_LONG(expected, actual)                                          \
    do {                                                                         \
        long check_e_ = (expected), check_a_ = (actual);                         \
        check_count++;                                                           \
        if (check_e_ != check_a_) {                                              \
            check_failures++;                                                    \
            fprintf(stderr, "%s:%d: expected %s == %ld, got %ld\n", __FILE__,    \
                    __LINE__, #actual, check_e_, check_a_);                      \
        }                                                                        \
    } while (0)

#define CHECK_EQ_STR(expected, actual)                                           \
    do {                                                                         \
        const char *check_e_ = (expected), *check_a_ = (actual);                 \
        check_count++;                                                           \
        if (strcmp(check_e_, check_a_) != 0) {                                   \
            check_failures++;                                                    \
            fprintf(stderr, "%s:%d: expected \"%s\", got \"%s\"\n", __FILE__,    \
                    __LINE__, check_e_, check_a_);                               \
        }                                                                        \
    } while (0)

#define RUN(test)                                                                \
    do {                                                                         \
        fprintf(stderr, "- %s\n", #test);                                        \
        test();                                                                  \
    } while (0)

#define CHECK_REPORT()                                                           \
    (fprintf(stderr, "%d checks, %d failed\n", check_count, check_failures),     \
     check_failures == 0 ? 0 : 1)

#endif
