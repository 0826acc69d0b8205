// Holds each libtorch Scalar that TorchSharp frees for a few seconds before freeing it (see ScalarQuarantine.cs).
//
// TorchSharp converts numbers to native Scalars on almost every arithmetic call (a + b passes alpha = 1) and passes
// only the pointer; its managed Scalar is unreachable from then on, and when a garbage collection finalizes it while
// libtorch still reads it, the kernel reads freed memory. This library exports the one function TorchSharp frees
// Scalars with and depends on libLibTorchSharp.so for every other symbol, so a handle to it resolves the whole API.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#define CAPACITY (1u << 20) /* at most 1 Mi Scalars held (about 32 MiB); beyond it the oldest goes early */
static const int64_t HoldNanoseconds = 5000000000LL; /* a kernel reads its Scalars within microseconds of the call */

typedef void (*dispose_fn)(void *);
static dispose_fn real_dispose;
static void *held[CAPACITY];
static int64_t since[CAPACITY];
static uint64_t first, next; /* a ring: [first, next) are held */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t total;

static int64_t now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Finds libLibTorchSharp's own function; the managed side installs this library only if it was found. */
__attribute__((visibility("default"))) int GanService_scalar_quarantine_ready(void)
{
    pthread_mutex_lock(&lock);
    if (!real_dispose) real_dispose = (dispose_fn)dlsym(RTLD_NEXT, "THSTorch_dispose_scalar");
    pthread_mutex_unlock(&lock);
    return real_dispose != 0;
}

__attribute__((visibility("default"))) void THSTorch_dispose_scalar(void *scalar)
{
    int64_t t = now();
    pthread_mutex_lock(&lock);
    while (first != next && (t - since[first % CAPACITY] >= HoldNanoseconds || next - first == CAPACITY))
        real_dispose(held[first++ % CAPACITY]);
    held[next % CAPACITY] = scalar;
    since[next % CAPACITY] = t;
    next++;
    total++;
    pthread_mutex_unlock(&lock);
}

/* For the tests: how many Scalars went through here, and how many are held now. */
__attribute__((visibility("default"))) void GanService_scalar_quarantine_counts(uint64_t *disposed, uint64_t *holding)
{
    pthread_mutex_lock(&lock);
    *disposed = total;
    *holding = next - first;
    pthread_mutex_unlock(&lock);
}
