/*
 * arena.c: the per-step scratch arena, a chunked bump allocator.  An
 * allocation moves a cursor in the current chunk; a request that does not fit
 * starts a new chunk, and a big one gets a chunk of its own so that the
 * current chunk's free space is not thrown away.  Nothing is freed one
 * allocation at a time: rt_arena_reset drops every chunk but one and
 * rt_arena_fini drops all.  Not thread-safe; one arena per worker and step.
 * Invariants R1-R3 in runtime/README.md.
 */
#include "runtime.h"

#define ARENA_ALIGN 16
#define ARENA_DEFAULT_CHUNK ((size_t)64 * 1024)

/* The usable bytes start at the first 16-byte boundary after the header, so
 * chunk layout does not depend on the alignment malloc happens to give. */
struct rt_arena_chunk {
    rt_arena_chunk *next; /* older chunk */
    size_t cap;           /* usable bytes at data() */
    size_t used;          /* bytes consumed at data() */
    bool big;             /* holds one big allocation (R2) */
};

static unsigned char *chunk_data(rt_arena_chunk *c)
{
    uintptr_t p = (uintptr_t)(c + 1);
    p = (p + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1);
    return (unsigned char *)p;
}

/* A chunk with cap usable bytes, or NULL if the size overflows or malloc
 * fails.  The ARENA_ALIGN - 1 slack pays for aligning data(). */
static rt_arena_chunk *chunk_new(size_t cap, bool big)
{
    size_t extra = sizeof(rt_arena_chunk) + ARENA_ALIGN - 1;
    if (cap > SIZE_MAX - extra)
        return NULL;
    rt_arena_chunk *c = ivm_malloc(cap + extra);
    if (c == NULL)
        return NULL;
    c->next = NULL;
    c->cap = cap;
    c->used = 0;
    c->big = big;
    return c;
}

static size_t round_up(size_t n)
{
    return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

void rt_arena_init(rt_arena *a)
{
    a->head = NULL;
    a->chunk_size = ARENA_DEFAULT_CHUNK;
    a->used_total = 0;
}

void rt_arena_fini(rt_arena *a)
{
    rt_arena_chunk *c = a->head;
    while (c != NULL) {
        rt_arena_chunk *next = c->next;
        ivm_free(c);
        c = next;
    }
    a->head = NULL;
    a->used_total = 0;
}

/* Keeps R1: sizes are rounded to ARENA_ALIGN and data() is aligned, so every
 * cursor position handed out is aligned. */
void *rt_arena_alloc(rt_arena *a, size_t n)
{
    if (a->chunk_size == 0) /* zero-filled, never initialised: be kind */
        a->chunk_size = ARENA_DEFAULT_CHUNK;
    size_t want = n ? n : 1; /* distinct pointers even for n == 0 */
    if (want > SIZE_MAX - ARENA_ALIGN)
        return NULL;
    want = round_up(want);

    rt_arena_chunk *c = a->head;
    if (c == NULL || c->cap - c->used < want) {
        if (want > a->chunk_size / 4) {
            /* Keeps R2: a big request gets its own chunk, linked behind the
             * current one, which stays current with its free space. */
            rt_arena_chunk *big = chunk_new(want, true);
            if (big == NULL)
                return NULL;
            big->used = want;
            if (c == NULL) {
                a->head = big;
            } else {
                big->next = c->next;
                c->next = big;
            }
            a->used_total += n;
            return chunk_data(big);
        }
        rt_arena_chunk *fresh = chunk_new(a->chunk_size, false);
        if (fresh == NULL)
            return NULL;
        fresh->next = c;
        a->head = c = fresh;
    }
    void *p = chunk_data(c) + c->used;
    c->used += want;
    a->used_total += n;
    return p;
}

char *rt_arena_strndup(rt_arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *d = rt_arena_alloc(a, n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* Keeps R3: the oldest default-size chunk survives, emptied; big chunks and
 * younger chunks go.  The survivor becomes the only chunk and the head. */
void rt_arena_reset(rt_arena *a)
{
    rt_arena_chunk *keep = NULL;
    rt_arena_chunk *c = a->head;
    while (c != NULL) {
        rt_arena_chunk *next = c->next;
        if (!c->big) {
            if (keep != NULL)
                ivm_free(keep);
            keep = c; /* an older default-size chunk replaces a younger one */
        } else {
            ivm_free(c);
        }
        c = next;
    }
    if (keep != NULL) {
        keep->next = NULL;
        keep->used = 0;
    }
    a->head = keep;
    a->used_total = 0;
}
