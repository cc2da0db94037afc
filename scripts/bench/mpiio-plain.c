/* The floor pvbench mpiio is measured against: the same striped MPI-IO access in plain C
 * (rank r of P writes block j*P + r of one shared file, then reads it back), with nothing
 * but the MPI calls inside the timer. Used by scripts/bench-mpiio only.
 *
 * The buffer is aligned to 128 bytes, as mpi-io-test's is (an unaligned one makes the kernel's
 * copy from the page cache up to 4x slower on AMD EPYC).
 *
 * usage: mpiio-plain FILE BLOCK_BYTES ITERATIONS collective|independent
 * prints: write_mib_per_s read_mib_per_s (bytes / (last close end - first open start),
 * summed over iterations, as pvbench's IOR convention does per iteration). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double phase(const char *file, long long block, int iters, int coll, int writing, char *buf)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    double total = 0;
    for (int j = 0; j < iters; j++) {
        MPI_File fh;
        MPI_Status st;
        MPI_Offset off = ((MPI_Offset)j * size + rank) * block;
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        int amode = writing ? MPI_MODE_CREATE | MPI_MODE_WRONLY : MPI_MODE_RDONLY;
        if (MPI_File_open(MPI_COMM_WORLD, file, amode, MPI_INFO_NULL, &fh) != MPI_SUCCESS)
            MPI_Abort(MPI_COMM_WORLD, 1);
        int rc;
        if (writing)
            rc = coll ? MPI_File_write_at_all(fh, off, buf, (int)block, MPI_BYTE, &st)
                      : MPI_File_write_at(fh, off, buf, (int)block, MPI_BYTE, &st);
        else
            rc = coll ? MPI_File_read_at_all(fh, off, buf, (int)block, MPI_BYTE, &st)
                      : MPI_File_read_at(fh, off, buf, (int)block, MPI_BYTE, &st);
        if (rc != MPI_SUCCESS)
            MPI_Abort(MPI_COMM_WORLD, 2);
        MPI_File_close(&fh);
        double t1 = MPI_Wtime(), first_open, last_close;
        MPI_Allreduce(&t0, &first_open, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
        MPI_Allreduce(&t1, &last_close, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        total += last_close - first_open;
    }
    return (double)block * size * iters / (1024.0 * 1024.0) / total;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    if (argc != 5) {
        fprintf(stderr, "usage: mpiio-plain FILE BLOCK_BYTES ITERATIONS collective|independent\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    long long block = atoll(argv[2]);
    int iters = atoi(argv[3]);
    int coll = strcmp(argv[4], "collective") == 0;
    /* Aligned to 128 bytes, as PVFS2's mpi-io-test aligns its buffer. */
    char *raw = malloc(block + 256);
    char *buf = raw + 128 - ((size_t)raw % 128);
    memset(buf, 0x5a, block);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0)
        MPI_File_delete(argv[1], MPI_INFO_NULL);
    MPI_Barrier(MPI_COMM_WORLD);
    double w = phase(argv[1], block, iters, coll, 1, buf);
    double r = phase(argv[1], block, iters, coll, 0, buf);
    if (rank == 0) {
        printf("%.1f %.1f\n", w, r);
        MPI_File_delete(argv[1], MPI_INFO_NULL);
    }
    free(raw);
    MPI_Finalize();
    return 0;
}
