/*  =========================================================================
    zflow_testing - the few macros every zflow test program uses

    CHECK fails the program with the file, line and expression; CHECK_RC
    also prints both codes with their zflow_error_text text.
    =========================================================================
*/
#ifndef ZFLOW_TESTING_H_INCLUDED
#define ZFLOW_TESTING_H_INCLUDED

#include "zflow.h"
#include <stdio.h>
#include <stdlib.h>

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if (!(expr)) {                                                                             \
            fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr);              \
            exit (1);                                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_RC(expr, expected)                                                                   \
    do {                                                                                           \
        int check_rc_ = (expr);                                                                    \
        int check_expected_ = (expected);                                                          \
        if (check_rc_ != check_expected_) {                                                        \
            fprintf (stderr, "%s:%d: %s returned %d (%s), expected %d (%s)\n", __FILE__, __LINE__, \
                     #expr, check_rc_, zflow_error_text (check_rc_), check_expected_,              \
                     zflow_error_text (check_expected_));                                          \
            exit (1);                                                                              \
        }                                                                                          \
    } while (0)

//  Runs one named test function and says so.
#define RUN(fn)                                                                                    \
    do {                                                                                           \
        printf ("  %s ...", #fn);                                                                  \
        fflush (stdout);                                                                           \
        fn ();                                                                                     \
        printf (" ok\n");                                                                          \
    } while (0)

//  True in a build with AddressSanitizer: its quarantine and shadow memory
//  are then most of the process's RSS, so tests with memory goals check
//  the behaviour but not the figure (the plain build checks that).
#if defined(__SANITIZE_ADDRESS__)
#define ZFLOW_TESTING_ASAN 1
#else
#define ZFLOW_TESTING_ASAN 0
#endif

//  Checks a memory goal, except under AddressSanitizer (said on stdout).
#define CHECK_RSS_GOAL(expr)                                                                       \
    do {                                                                                           \
        if (ZFLOW_TESTING_ASAN)                                                                    \
            printf ("  (memory goal not checked under AddressSanitizer: %s)\n", #expr);            \
        else                                                                                       \
            CHECK (expr);                                                                          \
    } while (0)

#endif
