/*  zflow-bench: `zflow bench` as a program of its own, until the zflow
    command dispatches to it. */
#include "zflow_cmd_bench.h"

int
main (int argc, char *argv[])
{
    return zflow__cmd_bench (argc, argv, argv[0]);
}
