// What .NET's finalizer thread frees through TorchSharp waits a moment before it is freed (see FinalizerQuarantine.cs).
//
// TorchSharp hands libtorch bare pointers: to the native Scalar it makes of a number on almost every call (a + b
// passes alpha = 1), and to the tensor of a temporary (x.abs().sum()). In optimised code the managed object is
// unreachable once its pointer is read, so a collection on another thread may finalize it, and free the native
// object, while the kernel still reads it. This library exports the two functions TorchSharp frees them with and
// depends on libLibTorchSharp.so for every other symbol, so a handle to it resolves the whole API. Frees from any
// other thread are explicit (Dispose, a dispose scope) and happen at once.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

typedef void (*dispose_fn)(void *);
typedef int64_t (*size_fn)(void *);

/* A queue of pointers, each freed once it has waited long enough, or early when the queue is over its limits. */
typedef struct
{
    const char *name;
    dispose_fn dispose;
    int64_t hold_ns, max_bytes;
    void **items;
    int64_t *since, *bytes; /* bytes: tensors only */
    uint64_t first, next, total;
    int64_t held_bytes;
} quarantine;

/* Rings of 64 Ki entries (2.5 MiB in all once they have gone round): a sampling load finalizes about a Scalar a
   render, a few thousand a second; past the capacity the oldest is freed early. */
#define CAPACITY (1u << 16)
static void *scalar_items[CAPACITY], *tensor_items[CAPACITY];
static int64_t scalar_since[CAPACITY], tensor_since[CAPACITY], tensor_bytes[CAPACITY];
/* A kernel reads its Scalars within microseconds of the call; a tensor is read for the whole kernel, which may take a
   second on a large input. The byte limit bounds what finalized tensors may keep alive, but nothing is freed early
   before it has waited MIN_HOLD_NS: a test host crashed in a two-thread float64 subtraction (add_kernel) reading a
   temporary that a finalization storm over the limit had freed at once. Past the limit for that long, the queue
   holds more than the limit. */
#define MIN_HOLD_NS 50000000LL
static quarantine scalars = {"THSTorch_dispose_scalar", 0, 5000000000LL, INT64_MAX, scalar_items, scalar_since, 0, 0, 0, 0, 0};
static quarantine tensors = {"THSTensor_dispose", 0, 2000000000LL, 256LL << 20, tensor_items, tensor_since, tensor_bytes, 0, 0, 0, 0};
static size_fn numel, element_size;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int finalizer_thread = -1;

static int64_t now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* The runtime names the thread that runs finalizers; a thread's name is read once. */
static int on_finalizer_thread(void)
{
    if (finalizer_thread < 0)
    {
        char name[17] = {0};
        prctl(PR_GET_NAME, name, 0, 0, 0);
        finalizer_thread = strcmp(name, ".NET Finalizer") == 0;
    }
    return finalizer_thread;
}

/* Frees outside the lock: freeing a tensor may free others through TorchSharp's custom autograd functions, which
   comes back here on the same thread. */
static void hold(quarantine *q, void *item, int64_t size)
{
    void *due[64];
    for (;;)
    {
        int n = 0;
        int64_t t = now();
        pthread_mutex_lock(&lock);
        while (n < 64 && q->first != q->next
               && (t - q->since[q->first % CAPACITY] >= q->hold_ns || q->next - q->first >= CAPACITY
                   || (q->held_bytes + size > q->max_bytes && t - q->since[q->first % CAPACITY] >= MIN_HOLD_NS)))
        {
            uint32_t i = q->first++ % CAPACITY;
            if (q->bytes) q->held_bytes -= q->bytes[i];
            due[n++] = q->items[i];
        }
        if (n == 0)
        {
            uint32_t i = q->next++ % CAPACITY;
            q->items[i] = item;
            q->since[i] = t;
            if (q->bytes) q->bytes[i] = size, q->held_bytes += size;
            q->total++;
            pthread_mutex_unlock(&lock);
            return;
        }
        pthread_mutex_unlock(&lock);
        for (int i = 0; i < n; i++) q->dispose(due[i]);
    }
}

/* Finds libLibTorchSharp's own functions; the managed side installs this library only if they were found. */
__attribute__((visibility("default"))) int GanService_quarantine_ready(void)
{
    pthread_mutex_lock(&lock);
    scalars.dispose = (dispose_fn)dlsym(RTLD_NEXT, scalars.name);
    tensors.dispose = (dispose_fn)dlsym(RTLD_NEXT, tensors.name);
    numel = (size_fn)dlsym(RTLD_NEXT, "THSTensor_numel");
    element_size = (size_fn)dlsym(RTLD_NEXT, "THSTensor_element_size");
    pthread_mutex_unlock(&lock);
    return scalars.dispose && tensors.dispose && numel && element_size;
}

__attribute__((visibility("default"))) void THSTorch_dispose_scalar(void *scalar)
{
    if (on_finalizer_thread()) hold(&scalars, scalar, 0);
    else scalars.dispose(scalar);
}

__attribute__((visibility("default"))) void THSTensor_dispose(void *tensor)
{
    /* The size counts the tensor's elements, not its storage: a view counts as much as its base, which errs on the
       side of freeing early. */
    if (on_finalizer_thread()) hold(&tensors, tensor, numel(tensor) * element_size(tensor));
    else tensors.dispose(tensor);
}

/* For the tests: how many went through the quarantine, and how many (and tensor bytes) it holds now. */
__attribute__((visibility("default"))) void GanService_quarantine_counts(uint64_t *counts)
{
    pthread_mutex_lock(&lock);
    counts[0] = scalars.total;
    counts[1] = scalars.next - scalars.first;
    counts[2] = tensors.total;
    counts[3] = tensors.next - tensors.first;
    counts[4] = (uint64_t)tensors.held_bytes;
    pthread_mutex_unlock(&lock);
}
