/* Each rank contributes rank + 1; MPI_Allreduce gives every rank the sum, size * (size + 1) / 2. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int rank, size, length;
    char processor[MPI_MAX_PROCESSOR_NAME];
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Get_processor_name(processor, &length);
    long value = rank + 1, sum = 0;
    MPI_Allreduce(&value, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    /* Under Flux, the rank's index among the tasks on its broker (node): 0, 1, 0, 1 over 2 brokers. */
    const char *broker = getenv("FLUX_TASK_LOCAL_ID");
    printf("rank %d of %d on %s%s%s: allreduce sum = %ld (expected %d)\n", rank, size, processor,
           broker ? ", local task " : "", broker ? broker : "", sum, size * (size + 1) / 2);
    MPI_Finalize();
    return sum == (long)size * (size + 1) / 2 ? 0 : 1;
}
