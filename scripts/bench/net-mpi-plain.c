/* The MPI transport's reference: osu_bw's pattern written plainly. Rank 0 sends WINDOW
 * messages of SIZE bytes with MPI_Isend, waits, and receives a one-byte acknowledgement;
 * rank 1 posts WINDOW MPI_Irecv into distinct page-aligned slots, waits, and acknowledges;
 * WINDOWS times. Prints the receiver's MiB/s from the first window to the last ack.
 * usage: mpiexec -n 2 net-mpi-plain SIZE WINDOW WINDOWS */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (argc != 4) {
        if (rank == 0)
            fprintf(stderr, "usage: net-mpi-plain SIZE WINDOW WINDOWS\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    size_t size = strtoull(argv[1], NULL, 10);
    int window = atoi(argv[2]), windows = atoi(argv[3]);
    char *buffer;
    size_t len = rank == 0 ? size : size * (size_t)window;
    if (posix_memalign((void **)&buffer, 4096, len) != 0)
        MPI_Abort(MPI_COMM_WORLD, 1);
    memset(buffer, 0, len);
    MPI_Request *requests = malloc(sizeof(MPI_Request) * window);
    char ack = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    double start = MPI_Wtime();
    for (int w = 0; w < windows; w++) {
        for (int i = 0; i < window; i++) {
            if (rank == 0)
                MPI_Isend(buffer, (int)size, MPI_BYTE, 1, 42, MPI_COMM_WORLD, &requests[i]);
            else
                MPI_Irecv(buffer + (size_t)i * size, (int)size, MPI_BYTE, 0, 42, MPI_COMM_WORLD, &requests[i]);
        }
        MPI_Waitall(window, requests, MPI_STATUSES_IGNORE);
        if (rank == 0)
            MPI_Recv(&ack, 1, MPI_BYTE, 1, 43, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        else
            MPI_Send(&ack, 1, MPI_BYTE, 0, 43, MPI_COMM_WORLD);
    }
    double elapsed = MPI_Wtime() - start;
    if (rank == 1)
        printf("%.1f\n", (double)size * window * windows / elapsed / 1048576.0);
    free(requests);
    free(buffer);
    MPI_Finalize();
    return 0;
}
