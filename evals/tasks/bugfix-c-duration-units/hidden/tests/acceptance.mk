# The hidden acceptance: the library as patched, with the acceptance program, built and run.
CC ?= cc
CFLAGS = -std=c99 -Wall -Wextra -O1 -Iinclude

.PHONY: acceptance
acceptance:
	$(CC) $(CFLAGS) -o tests/hidden_test_duration tests/hidden_test_duration.c src/duration.c
	./tests/hidden_test_duration
