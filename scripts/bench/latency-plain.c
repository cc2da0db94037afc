/* osu_latency's loop written plainly (MPI_Send/MPI_Recv, blocking): 100 untimed round trips,
 * then ITERATIONS timed ones (a tenth of each above 8 KiB); prints "size latency_us" per size,
 * the timed loop's time / (2 × iterations), for sizes 0 and 1 B to 64 KiB. Rank 0 pings. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int iterations = argc > 1 ? atoi(argv[1]) : 10000;
    static char message[65536], reply[65536];
    for (int size = 0; size <= 65536; size = size ? size * 2 : 1) {
        int skip = size > 8192 ? 10 : 100;
        int timed = size > 8192 ? (iterations / 10 > 0 ? iterations / 10 : 1) : iterations;
        MPI_Barrier(MPI_COMM_WORLD);
        double start = 0;
        for (int i = 0; i < skip + timed; i++) {
            if (i == skip) start = MPI_Wtime();
            if (rank == 0) {
                MPI_Send(message, size, MPI_CHAR, 1, 1, MPI_COMM_WORLD);
                MPI_Recv(reply, size, MPI_CHAR, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            } else {
                MPI_Recv(reply, size, MPI_CHAR, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                MPI_Send(reply, size, MPI_CHAR, 0, 1, MPI_COMM_WORLD);
            }
        }
        if (rank == 0) printf("%d %.3f\n", size, (MPI_Wtime() - start) * 1e6 / (2.0 * timed));
    }
    MPI_Finalize();
    return 0;
}
