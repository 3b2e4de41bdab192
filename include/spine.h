/*
 * spine.h: rows, batches and spines.  This module owns the row encoding that
 * every other module stores and ships (spine/README.md explains it and why),
 * the immutable sorted batches that hold Z-sets of rows with weights, and the
 * spine: an integral kept as a set of batches that merging keeps few and
 * consolidated, read through cursors.  It knows nothing of operators or SQL.
 *
 * Rows.  A row is a byte string: the concatenation of its columns'
 * encodings.  Each column starts with a tag byte:
 *   0x01 NULL      (no payload)
 *   0x02 INT       8 bytes, big-endian, sign bit flipped
 *   0x03 REAL      8 bytes, big-endian IEEE bits; negative: all bits
 *                  inverted, else sign bit set; -0.0 is stored as 0.0
 *   0x04 TEXT      the bytes, then one 0x00 terminator (text holds no NUL)
 * so that memcmp of two encodings orders rows column by column in SQL order
 * (NULL first, numbers by value, text by bytes), equality is byte equality
 * and hashing hashes bytes.  No encoding is a prefix of another of the same
 * column count, so a key's encoding followed by a value's orders (key, value)
 * pairs lexicographically.
 *
 * Batches.  An entry is (key, value, weight) where key and value are rows;
 * the entry stores key bytes then value bytes contiguously, and klen.  A
 * finished batch is sorted by (key, value), consolidated (each pair once, no
 * zero weight), immutable and shared by atomic reference count.
 */
#ifndef IVM_SPINE_H
#define IVM_SPINE_H

#include "ivm_base.h"
#include "runtime.h"

/* ---- Row encoding -------------------------------------------------------- */

enum {
    SPINE_TAG_NULL = 0x01,
    SPINE_TAG_INT = 0x02,
    SPINE_TAG_REAL = 0x03,
    SPINE_TAG_TEXT = 0x04
};

/* Bytes that spine_value_encode writes for v (exact): inline, for loops
 * over a row's values. */
static inline size_t spine_value_size(const ivm_value *v)
{
    switch (v->type) {
    case IVM_TINT:
        return 9;
    case IVM_TREAL:
        return v->u.r != v->u.r ? 1 : 9; /* NaN is encoded as NULL */
    case IVM_TTEXT:
        return (size_t)v->u.s.n + 2;
    default:
        return 1;
    }
}

/* Bytes that spine_row_encode needs for these values (exact). */
size_t spine_row_size(const ivm_value *vals, uint32_t n);

/* Encodes n values into out, which holds at least spine_row_size() bytes.
 * A REAL NaN is encoded as NULL, -0.0 as 0.0.  Returns bytes written.
 * Text must not contain a NUL byte: input paths reject it with
 * spine_text_valid, and only builds with IVM_SLOW_CHECKS check it again
 * here (IVM_ASSERT_SLOW). */
size_t spine_row_encode(const ivm_value *vals, uint32_t n, uint8_t *out);

/* Encodes one value at out; returns bytes written. */
size_t spine_value_encode(const ivm_value *v, uint8_t *out);
/* Encodes one value at out as spine_value_encode does, checking text for
 * a NUL byte as it copies it (one pass over the bytes where
 * spine_text_valid and the copy make two): returns 0, with out partly
 * written, if the text holds one.  For input paths. */
size_t spine_value_encode_checked(const ivm_value *v, uint8_t *out);
/* Encodes the values vals[cols[0]], ..., vals[cols[n - 1]] (cols NULL:
 * vals[0 .. n)) one after the other at out, as spine_value_encode does,
 * checking text for NUL bytes as spine_value_encode_checked does; out
 * holds at least their spine_value_size bytes.  Returns n, or the index k
 * (into cols, or vals when cols is NULL) of the first value whose text
 * holds a NUL, with out partly written.  For input paths: one call per
 * row. */
uint32_t spine_row_encode_checked(const ivm_value *vals, const uint32_t *cols, uint32_t n,
                                  uint8_t *out);

/* Encodes vals[cols[0]], ..., vals[cols[n - 1]] (cols NULL: vals[0 .. n))
 * at out as spine_row_encode_checked does, if every value vals[c] is of
 * class types[c] (INT, TEXT, or REAL other than NaN), its text holds no
 * NUL byte, and the encoding fits in cap bytes: then *len_out is its
 * length and the result true.  Otherwise false, with out partly written
 * and *len_out untouched: the caller takes its general path (conversion,
 * NULL, the error to report).  For input paths: one pass per row where
 * sizing it first made two. */
bool spine_row_encode_as(const ivm_value *vals, const uint32_t *cols, uint32_t n,
                         const ivm_type *types, uint8_t *out, size_t cap, size_t *len_out);

/* Decodes up to max columns of row[0..len) into out.  Text values point into
 * row (zero copy) and live as long as the row's bytes.  Returns the number of
 * columns decoded, or -1 if the bytes are not a valid encoding. */
int spine_row_decode(const uint8_t *row, size_t len, ivm_value *out, uint32_t max);

/* Length in bytes of the first column encoded at p (p < end); 0 if invalid. */
size_t spine_col_len(const uint8_t *p, const uint8_t *end);

/* Decodes the column of cl bytes at p, which spine_col_len (or
 * spine_row_split) has validated: cl is what it returned.  Text points
 * into p. */
void spine_col_decode(const uint8_t *p, size_t cl, ivm_value *out);

/* Finds where the first ncols columns of row[0..len) lie, validating each
 * as spine_col_len does (and text of at most UINT32_MAX bytes, as
 * spine_row_decode): column i is row[off_out[i] .. off_out[i + 1]), so
 * off_out holds ncols + 1 offsets.  Bytes after the ncols-th column are
 * not looked at (the caller compares off_out[ncols] with len when the row
 * must end there).  False if the row holds fewer than ncols valid columns;
 * off_out is then undefined.  Lets a reader copy columns as bytes and
 * decode only those it computes with. */
bool spine_row_split(const uint8_t *row, size_t len, uint32_t ncols, size_t *off_out);

/* Byte length of the first ncols columns of row; 0 if the row is shorter. */
size_t spine_row_prefix_len(const uint8_t *row, size_t len, uint32_t ncols);

/* Three-way comparison of two encodings (memcmp, then length). */
static inline int spine_row_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return c;
    return (alen > blen) - (alen < blen);
}

static inline uint64_t spine_row_hash(const uint8_t *row, size_t len)
{
    return ivm_hash_bytes(row, len, 0x5eed);
}

/* True if t[0..n) contains no NUL byte. */
bool spine_text_valid(const char *t, size_t n);

/* ---- Batches ------------------------------------------------------------- */

/* Read-only layout, shared by reference.  Entry i's bytes are
 * data[off[i] .. off[i+1]); the first klen[i] of them are the key. */
typedef struct spine_batch {
    uint32_t refs;           /* atomic; see spine_batch_ref/unref */
    uint32_t fence_at;       /* spine-private: every key starts with the first
                                key's first fence_at bytes; fences sample the
                                bytes after them (spine/README.md, Batches) */
    size_t n;                /* entries */
    const uint64_t *off;     /* n + 1 offsets into data */
    const uint32_t *klen;    /* n key lengths */
    const int64_t *w;        /* n weights, never 0 */
    const uint8_t *data;
    size_t bytes;            /* data bytes: off[n] */
    const uint64_t *filter;  /* spine-private: a blocked Bloom filter of the
                                keys, NULL if the batch is too small to have
                                one or was made for readers that never seek
                                exactly (spine/README.md, Key filters) */
    size_t filter_blocks;
    size_t neg;              /* entries with a negative weight: uncancelled
                                retractions, counted at seal */
    size_t settled;          /* spine-private: how many of those are known to
                                have met every older entry of their spine (a
                                retraction sweep's or a compaction's output);
                                at most neg (spine/README.md, Merge policy) */
} spine_batch;

static inline const uint8_t *spine_batch_key(const spine_batch *b, size_t i, size_t *klen_out)
{
    *klen_out = b->klen[i];
    return b->data + b->off[i];
}
static inline const uint8_t *spine_batch_val(const spine_batch *b, size_t i, size_t *vlen_out)
{
    *vlen_out = (size_t)(b->off[i + 1] - b->off[i]) - b->klen[i];
    return b->data + b->off[i] + b->klen[i];
}
/* The index after the last entry with entry i's key (i < n): keys are
 * sorted, so a key's entries are one stretch [i, spine_batch_key_end). */
size_t spine_batch_key_end(const spine_batch *b, size_t i);
/* Whole entry (key bytes then value bytes). */
static inline const uint8_t *spine_batch_row(const spine_batch *b, size_t i, size_t *len_out)
{
    *len_out = (size_t)(b->off[i + 1] - b->off[i]);
    return b->data + b->off[i];
}

/* An empty batch has n == 0; functions that return batches may return NULL
 * for "no rows" only where stated.  ref/unref are thread-safe (atomic);
 * unref of the last reference frees; unref(NULL) is a no-op. */
spine_batch *spine_batch_ref(spine_batch *b);
void spine_batch_unref(spine_batch *b);

/* Index of the first entry whose key is >= key (n if none), by binary search. */
size_t spine_batch_seek(const spine_batch *b, const uint8_t *key, size_t klen);

/* Merges a and b (both borrowed) into a new consolidated batch: weights of
 * equal (key, value) are summed and zeros dropped.  O(a->n + b->n). */
ivm_rc spine_batch_merge(const spine_batch *a, const spine_batch *b, spine_batch **out);

/* Merges k batches (borrowed; entries may not be NULL) into one new
 * consolidated batch with a tournament merge: O(entries x log k). */
ivm_rc spine_batch_merge_many(const spine_batch *const *in, size_t k, spine_batch **out);

/* Checks every batch invariant (sorted, consolidated, offsets in range,
 * valid encodings).  Returns IVM_OK or IVM_CORRUPT. */
ivm_rc spine_batch_check(const spine_batch *b);

/* The entries of b as whole rows: every key empty, the entry's bytes its
 * value (how circuits take rows in, dbsp/README.md D1); weights and order
 * kept (entries of a valid batch differ in their bytes, S3 and S5, so
 * they stay strictly increasing).  b itself with one more reference when
 * its keys are all empty already, else a copy: one allocation, the arrays
 * copied whole.  IVM_NOMEM. */
ivm_rc spine_batch_rows(spine_batch *b, spine_batch **out);

/* ---- Builder ------------------------------------------------------------- */

/* Entries that come smaller than an entry before them ("late") that a
 * builder puts in place by search rather than sorting the batch. */
#define SPINE_BUILDER_LATE 64

/* Collects entries in any order, then sorts (radix on an 8-byte key prefix,
 * then comparison within ties) and consolidates into a batch.  Entries are
 * copied into builder-owned contiguous memory: no allocation per entry.
 * Entries that come in (key, value) order are noticed as they come (each
 * is compared with the largest before it): finish then skips the sort,
 * and copies entries that are strictly increasing in bulk; up to
 * SPINE_BUILDER_LATE entries that come late (smaller than one before
 * them) are put in place by binary search; past that the batch is sorted
 * and nothing more is compared.
 * Caller's memory (init/fini); not thread-safe. */
typedef struct spine_builder {
    uint8_t *data;
    size_t bytes, data_cap;
    uint64_t *off;
    uint32_t *klen;
    int64_t *w;
    size_t n, cap;
    uint8_t order;        /* of the entries so far: SPINE_BUILDER_ASCENDING,
                             _EQUALS (non-decreasing, some equal), _NEARLY (in
                             order but for the late ones), _UNORDERED */
    bool ties;            /* some entry equalled the largest before it */
    bool failed;          /* sticky: an allocation failed */
    size_t top;           /* index of the largest entry so far (the last one
                             of those in order) */
    size_t nlate;         /* entries smaller than one before them ... */
    size_t late[SPINE_BUILDER_LATE]; /* ... and their indexes, ascending */
    size_t keep;          /* bytes finish keeps for the next batch; 0: 64 KiB */
    size_t hw;            /* most bytes a batch held since the last trim */
    bool filters;         /* batches get key filters (set_filters) */
} spine_builder;

enum {
    SPINE_BUILDER_ASCENDING,
    SPINE_BUILDER_EQUALS,
    SPINE_BUILDER_NEARLY,
    SPINE_BUILDER_UNORDERED
};

void spine_builder_init(spine_builder *b);
void spine_builder_fini(spine_builder *b);
/* Forgets all entries, keeps memory. */
void spine_builder_clear(spine_builder *b);
/* Buffers of at most `bytes` data bytes (and bytes / 16 entries) survive
 * every finish for the next batch, until spine_builder_trim gives them
 * back (by default, 0, finish itself frees buffers past 64 KiB and 4 Ki
 * entries when a batch used less than a quarter of them): for a builder
 * that several producers share within a step, where a small batch after
 * a large one says nothing about the next step.  What it keeps counts as
 * memory in use (runtime/mem.c) until fini. */
void spine_builder_set_keep(spine_builder *b, size_t bytes);
/* Frees the buffers when they are over four times the largest batch built
 * since the last trim (and over 64 KiB), then starts counting again: a
 * builder kept large by set_keep shrinks once its batches have become
 * small, rather than holding one huge step's peak. */
void spine_builder_trim(spine_builder *b);
/* Whether the batches finish makes get key filters (S18; true after init,
 * kept across batches, clears and the release of buffers): set it false for batches that no exact
 * seek will read, those of spines without spine_opts.exact_seeks and
 * deltas that only flow on.  A batch without a filter is still found by
 * exact seeks; it is searched where a filter could have ruled it out. */
void spine_builder_set_filters(spine_builder *b, bool filters);

/* Appends one entry (key bytes, value bytes, weight).  w == 0 is ignored. */
ivm_rc spine_builder_push(spine_builder *b, const uint8_t *key, size_t klen,
                          const uint8_t *val, size_t vlen, int64_t w);
/* Appends an entry whose klen + vlen bytes the caller writes: returns a
 * pointer to len bytes of space, then spine_builder_commit records it.
 * Space never committed is forgotten: the next reserve hands it out again
 * (so an entry may be dropped after it was written, and reserving ahead
 * sizes the buffer).  Returns NULL on allocation failure (the builder
 * becomes failed). */
uint8_t *spine_builder_reserve(spine_builder *b, size_t len);
ivm_rc spine_builder_commit(spine_builder *b, size_t klen, size_t len, int64_t w);
/* spine_builder_commit for an entry that the caller knows to be larger
 * than every entry committed before it (a map's row that starts a new run
 * of leading columns, whose input rows ascend): recorded as the largest
 * so far without a comparison.  A wrong promise leaves the batch out of
 * order (IVM_ASSERT_SLOW checks it where slow checks are on). */
ivm_rc spine_builder_commit_larger(spine_builder *b, size_t klen, size_t len, int64_t w);

/* Sorts, consolidates and returns the batch (one reference, owned by the
 * caller); the builder is cleared for reuse.  An empty result is a batch with
 * n == 0 (never NULL on IVM_OK).  IVM_NOMEM if any push failed. */
ivm_rc spine_builder_finish(spine_builder *b, spine_batch **out);
/* spine_builder_finish for entries pushed in runs that the caller knows
 * to be in order among themselves: every entry of a run is larger than
 * every entry of the runs before it (equal entries only within a run).
 * starts[0 .. nstarts) are the indexes (in push order, counting only
 * entries of weight != 0) where runs begin, non-decreasing; entries
 * before starts[0] are a run too.  Where the entries are not in order
 * already, each run is sorted on its own (a map whose output starts with
 * its input's leading columns sorts only within rows that share them).
 * IVM_INVALID (the builder cleared) for starts out of order or past the
 * entries; runs out of order are the caller's bug (IVM_ASSERT in the
 * writing pass where it sees them, IVM_INVALID where assertions are
 * off). */
ivm_rc spine_builder_finish_runs(spine_builder *b, const size_t *starts, size_t nstarts,
                                 spine_batch **out);

/* ---- Spines and the merger ------------------------------------------------ */

/* An integral: the sum of every batch inserted, kept as batches in levels by
 * size.  Merging keeps their number logarithmic (spine/README.md: merge
 * policy).  Merges run on a merger, never in the inserting thread: insert
 * never waits.  A finished merge replaces its inputs atomically, so every
 * snapshot (cursor, stats) sees the same sum.
 *
 * Threads: one owner thread at a time inserts, compacts, frees and reads
 * (cursors); the merger works on the spine concurrently, taking the
 * spine's lock once per batch operation, never per row.  spine_free waits
 * for a merge of this spine that is in progress to stop (at its next
 * slice). */
typedef struct spine spine;
typedef struct spine_merger spine_merger;

#define SPINE_MAX_LEVELS 32
/* The fan-in of a spine made with spine_opts.unread until spine_unread_end
 * (spine/README.md, Unread spines). */
#define SPINE_FANOUT_UNREAD 32

typedef struct spine_stats {
    size_t rows;          /* entries over all batches (before cancellation) */
    size_t bytes;         /* data + index bytes held */
    size_t batches;
    size_t level_batches[SPINE_MAX_LEVELS]; /* batches per level */
    size_t filtered;      /* batches that carry a key filter (S18) */
    size_t pending;       /* unmerged batches: over all levels, the batches beyond
                             the fanout - 1 a level holds at rest (README:
                             backpressure); spine_ready compares this */
    size_t fanout;        /* the levels' fan-in F: a batch of n entries is on
                             level floor(log_F n); 4, 8 if wide,
                             SPINE_FANOUT_UNREAD while unread (until the
                             merger re-levels the spine after
                             spine_unread_end) */
    size_t merges;        /* merges completed (compactions included) */
    size_t merge_rows;    /* entries read by completed merges */
    size_t negatives;     /* entries with a negative weight: retractions not
                             yet cancelled by a merge (spine/README.md,
                             retraction sweeps) */
    size_t sweeps;        /* retraction sweeps completed (also in merges) */
    size_t sweep_rows;    /* entries they read (also in merge_rows) */
    size_t waits;         /* times spine_ready said no */
    uint64_t wait_ns;     /* time between a "no" and the wake that ended it */
} spine_stats;

typedef struct spine_opts {
    spine_merger *merger;   /* NULL: the process-wide merger */
    uint32_t max_pending;   /* spine_ready says no above this; 0: default */
    bool exact_seeks;       /* readers call spine_cursor_seek_exact on it:
                               its merges and compactions build key filters
                               (S18); false: they build none (batches
                               inserted keep whatever filters they have) */
    bool wide;              /* merges take 8 batches of a level, not 4: a
                               row is copied about a third fewer times, and
                               a reader meets up to 7 batches per level, not
                               3 (for spines read in order, not probed) */
    bool unread;            /* nothing reads it yet: until spine_unread_end,
                               merges take SPINE_FANOUT_UNREAD = 32 batches
                               of a level (a row is copied log32 instead of
                               log4 times of N / b, about 2.5 times fewer;
                               up to 31 batches a level at rest) and build
                               no key filter.  Cursors still read it
                               correctly, only over more batches, some
                               unfiltered */
} spine_opts;

/* A spine on the process-wide merger with default options (max_pending
 * 32, no exact seeks, so no filters on its merge outputs).  NULL on
 * allocation failure, or if the process-wide merger could not be
 * started. */
spine *spine_new(void);
spine *spine_new_opts(const spine_opts *opts);
/* Ends spine_opts.unread: the spine is read from now on (a no-op on a
 * spine made without it, and after the first call).  Its merges build
 * filters again (if exact_seeks), and at its next turn the merger (or a
 * spine_compact first) drops its merges in progress and re-places its
 * batches on the levels of its read fan-in (4, or 8 if wide); merging then
 * brings it back to that shape (at most F - 1 batches a level at rest) and
 * merges every batch that was left without a filter while unread once
 * more, so that it gets one.  Until then, and while that runs, cursors
 * read every batch as before: correct, only slower.  pending may rise
 * (spine_ready may then say no until the merger has caught up).  Never
 * waits or merges in the caller.  Any thread (one lock round trip, and
 * the merger's lock the first time). */
void spine_unread_end(spine *s);
/* Unregisters from the merger (waiting for a slice of this spine in
 * progress to end), drops its merges in progress and releases its batches;
 * cursors keep theirs.  NULL is a no-op. */
void spine_free(spine *s);
/* Adds a batch (takes the caller's reference, even on failure).  Empty
 * batches are dropped.  Never merges or waits: merge work goes to the
 * merger.  Returns the spine's sticky error (IVM_NOMEM) once a merge could
 * not allocate; IVM_NOMEM also if the level's array cannot grow. */
ivm_rc spine_insert_take(spine *s, spine_batch *b_owned);
/* Async backpressure: true if the spine holds at most max_pending unmerged
 * batches (spine_stats.pending), or has failed (insert then returns the
 * error).  Otherwise registers waker (replacing an earlier one), counts a
 * wait and returns false; the merger calls the waker once, under the
 * spine's lock, when a merge or compaction brings the spine back at or
 * under the threshold (or the spine fails).  Insert still works when the
 * answer is no.  A producer that asks before every insert keeps pending at
 * most max_pending + 1.  The waker runs on the merger's thread (or the one
 * that compacts) with the spine's lock held: it must only wake (taking no
 * lock of a spine), not call spine_free, spine_compact or spine_wait_idle.
 * Because the call is under the lock, a producer that got "no" and later
 * "yes" from spine_ready knows that no call of its waker is still running:
 * it may free what the waker points to. */
bool spine_ready(spine *s, rt_waker waker);
/* Forgets the waker spine_ready registered, for a producer that gives up
 * waiting (a failed step).  When it returns no call of that waker is
 * running or will come.  Any thread. */
void spine_ready_cancel(spine *s);
/* A consistent snapshot of the counters (taken under the spine's lock);
 * any thread. */
void spine_stats_get(const spine *s, spine_stats *out);
/* Merges everything into at most one batch, in the calling thread (for
 * tests, checkpoints and the end of a bulk load).  Merges of this spine in
 * progress on the merger are dropped first (waiting for a slice that runs
 * to end), and a spine_unread_end the merger has not applied yet is.  IVM_NOMEM changes nothing; a failed spine returns its error. */
ivm_rc spine_compact(spine *s);
/* Checks every batch, the level structure, the counters and that the
 * merger knows of any merge work (IVM_CORRUPT otherwise).  Any thread. */
ivm_rc spine_check(const spine *s);

/* The merger: one thread for the whole process serves every spine.  Spines
 * hand it merge work; it does bounded slices of work, small jobs (a slice's
 * entries at most) ahead of long ones but never more than about a slice's
 * entries of them between two slices of long jobs, in turn across spines
 * and jobs within each class, and publishes each finished merge
 * atomically (spine/README.md, the merger).  The
 * process-wide merger is the process "merger" under the runtime's root
 * supervisor (root/merger), started on first use; a failure (IVM_FAULT
 * merger:fail@N fails before the Nth merge it starts) loses no data: the
 * merges in progress are dropped, the spines keep their batches and the
 * restarted merger takes the work up again.  Thread-safe. */
spine_merger *spine_merger_global(void);
/* A merger without a thread: work runs only in spine_merger_work and
 * spine_wait_idle (tests use it for deterministic interleavings).  Free it
 * after its spines; freeing the process-wide merger does nothing. */
ivm_rc spine_merger_new_manual(spine_merger **out);
void spine_merger_free(spine_merger *m);
/* Runs merge work in the calling thread, slice after slice as the merger's
 * thread would choose them (small jobs first, within the budget for them;
 * each slice gets what is left of budget), until about budget input
 * entries have been read (a
 * slice stops between entries, never inside a group of equal ones) or no
 * work is left; returns true if work remains.  For manual mergers; safe
 * from any thread. */
bool spine_merger_work(spine_merger *m, size_t budget);
/* Returns when the merger has no work for s (tests, benchmarks, bulk
 * loads): sleeps on a condition variable for a threaded merger, runs s's
 * merges in the calling thread for a manual one.  s's owner must not insert
 * meanwhile.  On the process-wide merger it waits through restarts, and
 * forever if the supervisor gave up on the merger. */
void spine_wait_idle(spine *s);

/* What a merger did, counted under its lock since it was created, and
 * whether its thread sleeps. */
typedef struct spine_merger_stats {
    uint64_t notifies; /* inserts that gave it work (a level filled) */
    uint64_t slices;   /* slices run, by its thread or by callers */
    uint64_t long_slices; /* of those, slices given to long jobs (or
                          longer than one slice): small jobs go first
                          until a slice's worth of them has run
                          (spine/README.md, the merger) */
    uint64_t sleeps;   /* times its thread went to sleep on an empty queue */
    uint64_t naps;     /* timed waits of its thread, after work, before a
                          sleep (spine/README.md: waking the merger) */
    uint64_t wakes;    /* signals that ended such a sleep; never more than
                          sleeps (spine/README.md, S20) */
    bool asleep;       /* its thread sleeps now, until signalled */
} spine_merger_stats;

/* A consistent snapshot of m's counters.  Any thread. */
void spine_merger_stats_get(spine_merger *m, spine_merger_stats *out);

/* ---- Cursors ------------------------------------------------------------- */

/* Reads a snapshot of spines and batches as if it were one consolidated batch: keys
 * in order, for each key its values in order, weights summed across batches;
 * (key, value) pairs whose weights sum to zero, and keys left with no values,
 * are skipped.  The cursor holds references to the batches it reads, so it
 * stays valid while the spine changes.  Single-threaded. */
typedef struct spine_cursor spine_cursor;

/* Reads the sum of nspines spines (entries may be NULL) and nextra extra
 * batches (entries may be NULL), for example one spine per worker, or a
 * table's spine plus a transaction's pending changes. */
ivm_rc spine_cursor_new(const spine *const *spines, size_t nspines,
                        spine_batch *const *extra, size_t nextra, spine_cursor **out);
void spine_cursor_free(spine_cursor *c);
/* Back to the first key. */
void spine_cursor_rewind(spine_cursor *c);
/* Positions at the first key >= key (then at its first value).  key may
 * point anywhere, the cursor's own key included.  Any order of targets
 * works; targets in ascending order (each >= the last, as a sorted delta's
 * keys) are cheapest: a target after the current key moves only the
 * batches behind it, from where they stand (a near one costs a cache line
 * or two per batch), and a target at the current key, or between the last
 * target and the key it landed on, costs no search at all.  Never fails, never allocates but
 * rarely (a longer key than any before). */
void spine_cursor_seek_key(spine_cursor *c, const uint8_t *key, size_t klen);

/* Positions at key, exactly: true if the cursor then stands on key, at its
 * first value (which has a non-zero weight: the key has one); false if the
 * snapshot holds no such value.  For callers that only want one key's
 * values (joins and aggregates probing with the keys of a delta): after
 * true, val, weight, step_val and rewind_vals read them as after
 * spine_cursor_seek_key; after false the cursor shows no key (key_valid and
 * val_valid are false; step_key, step_val and rewind_vals do nothing) until
 * the next seek or rewind.  Cheaper than seek_key in ascending order: a
 * batch whose key filter says it cannot hold key is not searched, and
 * stays behind until a later move needs it (step_key, or a seek; one more
 * exact seek that its filter rules out leaves it where it is).  key may
 * point anywhere, the cursor's own key included.  Never fails, never
 * allocates but rarely (as seek_key). */
bool spine_cursor_seek_exact(spine_cursor *c, const uint8_t *key, size_t klen);

/* Tells c that exact seeks to about nkeys keys (a delta's) come next, and
 * nothing else but reading the values of the keys found, until c is
 * rewound or freed.  When they are few (at most 64) and far apart (fewer
 * than one per 128 entries of the snapshot), c becomes a point reader and
 * returns true: each exact seek, in any order of targets, asks every
 * batch's key filter and searches alone, from scratch, each batch that
 * may hold the key, keeping no merged order, and val, weight, step_val
 * and rewind_vals read the key's values as before; seek_key and step_key
 * must not be called (asserted) until spine_cursor_rewind, which makes it
 * a merged reader again, at the first key.  On a point reader,
 * spine_cursor_prefetch_exact locates its keys (up to 32 bytes long): it
 * searches them all at once, their cache misses overlapped, and keeps what
 * it found, so that their seeks then search nothing.  Otherwise nothing changes and
 * it returns whether c already was a point reader.  The answers are the
 * same either way; only their cost differs: a forward seek moves every
 * batch standing below its target and re-orders them, which small
 * commits into large traces paid at every key. */
bool spine_cursor_expect_exact(spine_cursor *c, size_t nkeys);

/* Keys one call of spine_cursor_prefetch_exact covers at most. */
#define SPINE_PREFETCH_KEYS 16

/* A hint that exact seeks of c to the keys of batch keys' entries from
 * `from` on (in their order, as an operator probing with a sorted delta
 * makes them) come next: fetches into the cache, for up to
 * SPINE_PREFETCH_KEYS distinct keys, the lines those seeks will read in
 * each batch whose key filter may hold the key (filter blocks, fences,
 * then the offsets, key lengths, bytes and weights where the key would
 * be), in rounds that overlap the cache misses of all those keys and
 * batches, where seeks one after the other wait for each key's misses in
 * turn.  Small batches, and batches the delta probes densely (whose
 * seeks find each key near the last), are left out.  Returns the index
 * of the first entry whose key it did not cover: call it again there
 * before seeking that key.  It returns keys->n when it covered them all,
 * or when no batch of c is worth it for this delta; from if keys is NULL;
 * otherwise at least one key's end.  Only a hint: it changes nothing any
 * call on c can see (positions, the key shown, what later seeks find),
 * whatever follows; the lines are guessed from where the batches' runs
 * stand now, so seeks that move them in between may leave some of its
 * lines unused.  Reads only within c's batches and keys; never fails,
 * never allocates; costs about a third of the seeks' own arithmetic for
 * the pairs it searches.  keys must not change until it returns.
 * Single-threaded, as the cursor. */
size_t spine_cursor_prefetch_exact(spine_cursor *c, const spine_batch *keys, size_t from);

bool spine_cursor_key_valid(const spine_cursor *c);
/* Valid until the cursor moves to another key. */
const uint8_t *spine_cursor_key(const spine_cursor *c, size_t *klen_out);
void spine_cursor_step_key(spine_cursor *c);

bool spine_cursor_val_valid(const spine_cursor *c);
/* Valid until the cursor moves. */
const uint8_t *spine_cursor_val(const spine_cursor *c, size_t *vlen_out);
int64_t spine_cursor_weight(const spine_cursor *c);
void spine_cursor_step_val(spine_cursor *c);
/* Back to the first value of the current key (nothing to do when standing
 * on it). */
void spine_cursor_rewind_vals(spine_cursor *c);

#endif /* IVM_SPINE_H */
