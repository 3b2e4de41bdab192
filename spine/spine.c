/*
 * spine.c: the spine: an integral kept as immutable batches in levels by
 * size.  Inserting places a batch on its level and never merges or waits; a
 * level that fills becomes a merge job that the spine's merger (merger.c)
 * runs in slices through spine_slice, here, which also publishes a finished
 * merge: under the spine's lock its inputs are replaced by the output, so
 * every snapshot sees the same sum.  Upper levels dense with uncancelled
 * retractions get one more kind of job, the retraction sweep, which merges
 * all their batches at once.  Jobs are small or long by the entries they
 * read, which the merger uses to run small ones first.  Also here: backpressure (pending,
 * spine_ready, the waker), compaction in the caller's thread, statistics
 * and the structural check.  It does not read batches (cursor.c), merge
 * entries (batch.c) or schedule work across spines (merger.c).  Policy,
 * arithmetic, locking and S7-S22 are in spine/README.md.
 *
 * Failure: a merge that cannot allocate leaves its inputs in place, so the
 * spine still holds the right sum (S7) and cursors read it, but its level
 * stays over-full; the spine keeps the error (sticky), refuses inserts and
 * compaction and stops asking for merges, for its owner to decide.
 */
#include "spine_int.h"
#include <stdatomic.h>

/* ---- Level bookkeeping (caller holds s->mu) --------------------------------- */

/* Batches of level l beyond the FANOUT - 1 it holds at rest: its share of
 * pending (S13). */
static size_t excess(const spine *s, const spine_level *lv)
{
    return lv->n > s->fanout - 1 ? lv->n - (s->fanout - 1) : 0;
}

/* True if level l should start a merge: FANOUT batches not in a merge and
 * no merge of it running (S9), or stale batches to give a filter (S21). */
static bool level_needs_job(const spine *s, const spine_level *lv)
{
    return lv->merging == 0 && (lv->n >= s->fanout || lv->stale > 0);
}

/* The most batches a job takes: up to SPINE_MERGE_MAX to catch up, and
 * never fewer than a level holds when it needs a job (S9). */
static uint32_t merge_max(const spine *s)
{
    return s->fanout > SPINE_MERGE_MAX ? s->fanout : SPINE_MERGE_MAX;
}

/* Room for one more batch on lv.  Grows by doubling: per batch, not per
 * row, and amortised O(1). */
static ivm_rc level_reserve(spine_level *lv)
{
    if (lv->n < lv->cap)
        return IVM_OK;
    uint32_t cap = lv->cap ? 2 * lv->cap : 2 * SPINE_FANOUT;
    if (cap <= lv->cap)
        return IVM_NOMEM;
    spine_batch **b = ivm_realloc(lv->b, (size_t)cap * sizeof *b);
    if (b == NULL)
        return IVM_NOMEM;
    lv->b = b;
    lv->cap = cap;
    return IVM_OK;
}

/* Appends a non-empty batch on the level its size decides (keeps S8); the
 * caller reserved room there. */
static void place_locked(spine *s, spine_batch *b)
{
    spine_level *lv = &s->lv[spine_level_of(b->n, s->level_bits)];
    IVM_ASSERT(lv->n < lv->cap);
    s->pending -= excess(s, lv);
    lv->b[lv->n++] = b;
    s->pending += excess(s, lv);
    lv->rows += b->n;
    lv->fresh += b->neg - b->settled;
    s->fresh += b->neg - b->settled;
    s->neg += b->neg;
    s->rows += b->n;
    s->bytes += spine_batch_mem(b);
    s->batches++;
}

/* Removes the k oldest batches of level l, whose references go to
 * dropped[] for the caller to release after unlocking. */
static void remove_oldest_locked(spine *s, unsigned l, uint32_t k, spine_batch **dropped)
{
    spine_level *lv = &s->lv[l];
    IVM_ASSERT(k <= lv->n);
    s->pending -= excess(s, lv);
    for (uint32_t j = 0; j < k; j++) {
        spine_batch *b = lv->b[j];
        lv->rows -= b->n;
        lv->fresh -= b->neg - b->settled;
        s->fresh -= b->neg - b->settled;
        s->neg -= b->neg;
        s->rows -= b->n;
        s->bytes -= spine_batch_mem(b);
        s->batches--;
        dropped[j] = b;
    }
    if (k > 0 && lv->n > k) /* an unused level has no array at all */
        memmove(lv->b, lv->b + k, (size_t)(lv->n - k) * sizeof *lv->b);
    lv->n -= k;
    lv->stale = lv->stale > k ? lv->stale - k : 0; /* stale batches are the oldest */
    s->pending += excess(s, lv);
}

/* If the spine is back at or under its threshold (or failed, so that the
 * producer goes on to see the error), takes the registered waker for the
 * caller to call before unlocking (keeps S11), and ends the wait's clock. */
static rt_waker take_waker_locked(spine *s)
{
    rt_waker w = {NULL, NULL};
    if (s->waker.fn == NULL || (s->pending > s->max_pending && s->rc == IVM_OK))
        return w;
    w = s->waker;
    s->waker.fn = NULL;
    s->waker.arg = NULL;
    if (s->wait_since != 0) {
        s->wait_ns += rt_now_ns() - s->wait_since;
        s->wait_since = 0;
    }
    return w;
}

/* ---- Classes of work and retraction sweeps (caller holds s->mu) --------------- */

/* A job that reads at most one slice's entries is small: one slice ends it,
 * and the merger runs it ahead of long ones (README: the merger). */
static unsigned class_of(size_t rows)
{
    return rows <= SPINE_SLICE ? SPINE_WORK_SMALL : SPINE_WORK_LONG;
}

/* Entries of the k oldest batches of lv: what a job over them reads. */
static size_t prefix_rows(const spine_level *lv, uint32_t k)
{
    size_t r = 0;
    for (uint32_t i = 0; i < k; i++)
        r += lv->b[i]->n;
    return r;
}

/* The lowest level a retraction sweep takes: the first whose own merge, F
 * batches of at least F^l entries, is always long.  Lower levels merge
 * within small work whenever they fill, so their pairs meet soon anyway,
 * and a sweep that held them would stall the small merges that keep
 * pending down (README: retraction sweeps). */
static unsigned sweep_floor(const spine *s)
{
    unsigned l = 0;
    while ((size_t)1 << (s->level_bits * (l + 1)) <= SPINE_SLICE)
        l++;
    return l;
}

/* Whether a retraction sweep is due, and from which level (*lo_out): the
 * lowest level lo >= sweep_floor such that the levels from lo up hold more
 * than one batch (at most SPINE_MERGE_CAP) and their fresh negative
 * entries are more than 1 / SPINE_SWEEP_DIV of their entries.  Never while
 * one runs, and never for a spine without fresh negatives: a spine that
 * only ever had insertions pays one compare per look. */
static bool sweep_due_locked(const spine *s, unsigned *lo_out)
{
    *lo_out = SPINE_LEVELS;
    if (s->fresh == 0 || s->rc != IVM_OK || s->relevel || s->sweep_lo < SPINE_LEVELS)
        return false;
    size_t e = 0, f = 0;
    uint32_t nb = 0;
    unsigned floor = sweep_floor(s);
    for (unsigned l = SPINE_LEVELS; l-- > floor;) {
        const spine_level *lv = &s->lv[l];
        if (lv->n == 0)
            continue;
        e += lv->rows;
        f += lv->fresh;
        nb += lv->n;
        if (nb > SPINE_MERGE_CAP)
            break;
        if (nb > 1 && SPINE_SWEEP_DIV * f > e)
            *lo_out = l;
    }
    return *lo_out < SPINE_LEVELS;
}

/* A due sweep starts once no level it would take has a merge of its own
 * running (it takes whole levels); meanwhile those levels start none. */
static bool sweep_startable_locked(const spine *s, unsigned lo)
{
    for (unsigned l = lo; l < SPINE_LEVELS; l++)
        if (s->lv[l].merging > 0)
            return false;
    return true;
}

/* Entries the sweep that would start from lo reads: every batch there. */
static size_t upper_rows(const spine *s, unsigned lo)
{
    size_t r = 0;
    for (unsigned l = lo; l < SPINE_LEVELS; l++)
        r += s->lv[l].rows;
    return r;
}

/* Entries the running sweep reads. */
static size_t sweep_rows_locked(const spine *s)
{
    size_t r = 0;
    for (unsigned l = s->sweep_lo; l < SPINE_LEVELS; l++)
        r += prefix_rows(&s->lv[l], s->lv[l].merging);
    return r;
}

/* The class of level l's job, running or needed, or 0: none, or the level
 * is in the running sweep, or a due sweep from lo will take it. */
static unsigned level_work_locked(const spine *s, unsigned l, unsigned lo)
{
    const spine_level *lv = &s->lv[l];
    if (l >= s->sweep_lo)
        return 0;
    if (lv->merging > 0)
        return class_of(prefix_rows(lv, lv->merging));
    if (!level_needs_job(s, lv) || l >= lo)
        return 0;
    return class_of(prefix_rows(lv, IVM_MIN(lv->n, merge_max(s))));
}

/* The class of the sweep's work, running or due and startable, or 0. */
static unsigned sweep_work_locked(const spine *s, unsigned lo)
{
    if (s->sweep_lo < SPINE_LEVELS)
        return class_of(sweep_rows_locked(s));
    if (lo < SPINE_LEVELS && sweep_startable_locked(s, lo))
        return class_of(upper_rows(s, lo));
    return 0;
}

/* The classes of merge work the spine has: jobs running, levels that need
 * one, a sweep due; 0 for none (S12). */
static unsigned work_locked(const spine *s)
{
    if (s->rc != IVM_OK)
        return 0;
    if (s->relevel)
        return SPINE_WORK_SMALL; /* pointer moves, no entries read */
    unsigned lo;
    sweep_due_locked(s, &lo);
    unsigned w = sweep_work_locked(s, lo);
    for (unsigned l = 0; l < SPINE_LEVELS; l++)
        w |= level_work_locked(s, l, lo);
    return w;
}

/* ---- Life cycle, insert, backpressure ---------------------------------------- */

spine *spine_new(void)
{
    return spine_new_opts(NULL);
}

spine *spine_new_opts(const spine_opts *opts)
{
    spine_merger *m = opts != NULL && opts->merger != NULL ? opts->merger : spine_merger_global();
    if (m == NULL)
        return NULL;
    spine *s = ivm_calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        ivm_free(s);
        return NULL;
    }
    s->rc = IVM_OK;
    s->sweep_lo = SPINE_LEVELS;
    s->max_pending = opts != NULL && opts->max_pending > 0 ? opts->max_pending
                                                           : SPINE_DEFAULT_MAX_PENDING;
    s->exact_opt = opts != NULL && opts->exact_seeks;
    bool wide = opts != NULL && opts->wide;
    s->fanout_read = wide ? SPINE_FANOUT_WIDE : SPINE_FANOUT;
    s->bits_read = wide ? SPINE_LEVEL_BITS_WIDE : SPINE_LEVEL_BITS;
    /* Unread, a spine only has to stay a bounded number of batches: a
     * wide fan-in copies each row fewer times, and filters would be built
     * for no one (README: Unread spines). */
    s->unread = opts != NULL && opts->unread;
    s->exact = s->exact_opt && !s->unread;
    s->fanout = s->unread ? SPINE_FANOUT_UNREAD : s->fanout_read;
    s->level_bits = s->unread ? SPINE_LEVEL_BITS_UNREAD : s->bits_read;
    spine_merger_register(m, s);
    return s;
}

void spine_unread_end(spine *s)
{
    pthread_mutex_lock(&s->mu);
    bool was = s->unread;
    if (was) {
        /* From now on merges build the filters exact seeks ask; the levels
         * change at the merger's next slice of s, which owns the jobs
         * (relevel_locked).  Until then readers read the unread shape: every
         * batch is there, only more of them and without filters. */
        s->unread = false;
        s->exact = s->exact_opt;
        s->relevel = true;
    }
    pthread_mutex_unlock(&s->mu);
    if (was) /* after the spine's lock (lock order) */
        spine_merger_notify(s->m, s, SPINE_WORK_SMALL);
}

void spine_free(spine *s)
{
    if (s == NULL)
        return;
    /* After this the merger no longer knows s: no slice runs on it. */
    spine_merger_unregister(s->m, s);
    spine_jobs_drop(s);
    for (unsigned l = 0; l < SPINE_LEVELS; l++) {
        for (uint32_t k = 0; k < s->lv[l].n; k++)
            spine_batch_unref(s->lv[l].b[k]);
        ivm_free(s->lv[l].b);
    }
    pthread_mutex_destroy(&s->mu);
    ivm_free(s);
}

ivm_rc spine_insert_take(spine *s, spine_batch *b_owned)
{
    if (b_owned == NULL)
        return IVM_OK;
    if (s == NULL) {
        spine_batch_unref(b_owned);
        return IVM_INVALID;
    }
    if (b_owned->n == 0) {
        spine_batch_unref(b_owned);
        return IVM_OK;
    }
    pthread_mutex_lock(&s->mu);
    ivm_rc rc = s->rc;
    spine_level *lv = &s->lv[spine_level_of(b_owned->n, s->level_bits)];
    if (rc == IVM_OK)
        rc = level_reserve(lv);
    if (rc != IVM_OK) {
        pthread_mutex_unlock(&s->mu);
        spine_batch_unref(b_owned);
        return rc;
    }
    place_locked(s, b_owned);
    /* Work for the merger if the level filled, or if the batch's fresh
     * negatives made a sweep due, or if it may have changed whether one is
     * due and so which jobs the levels a sweep takes need (a batch on
     * those levels, in a spine with fresh negatives: large batches only);
     * only then are the classes counted, and the merger is told them all
     * (S12). */
    unsigned lo, work = 0;
    if (level_needs_job(s, lv) ||
        (s->fresh > 0 && spine_level_of(b_owned->n, s->level_bits) >= sweep_floor(s)) ||
        (b_owned->neg > b_owned->settled && sweep_due_locked(s, &lo)))
        work = work_locked(s);
    pthread_mutex_unlock(&s->mu);
    /* The merger's lock is taken after the spine's is released (README:
     * lock order), once per batch at most. */
    if (work != 0)
        spine_merger_notify(s->m, s, work);
    return IVM_OK;
}

bool spine_ready(spine *s, rt_waker waker)
{
    pthread_mutex_lock(&s->mu);
    bool ready = s->pending <= s->max_pending || s->rc != IVM_OK;
    if (!ready) {
        /* Registered under the lock that publishing takes too, so a merge
         * that ends the wait either sees this waker or ran before the
         * pending count was read (no lost wake-up). */
        s->waker = waker;
        s->waits++;
        if (s->wait_since == 0)
            s->wait_since = rt_now_ns() | 1; /* 0 means "not waiting" */
    }
    spine_merger *m = s->m;
    pthread_mutex_unlock(&s->mu);
    if (!ready && m != NULL && spine_merger_down(m)) {
        /* S16: with its merger down (failed and not yet back, or given up
         * on), the spine would wait for nobody: its owner merges instead,
         * and the answer is yes. */
        static atomic_bool logged;
        if (!atomic_exchange(&logged, true))
            rt_log("spine: merger down; merging in the inserting thread");
        if (spine_compact(s) == IVM_OK) {
            pthread_mutex_lock(&s->mu);
            s->waker = (rt_waker){NULL, NULL};
            s->wait_since = 0;
            pthread_mutex_unlock(&s->mu);
            ready = true;
        }
    }
    return ready;
}

void spine_ready_cancel(spine *s)
{
    /* Taking the lock waits out a wake in progress (S11: wakes are called
     * under it); clearing the waker stops any later one. */
    pthread_mutex_lock(&s->mu);
    s->waker = (rt_waker){NULL, NULL};
    if (s->wait_since != 0) {
        s->wait_ns += rt_now_ns() - s->wait_since;
        s->wait_since = 0;
    }
    pthread_mutex_unlock(&s->mu);
}

void spine_stats_get(const spine *cs, spine_stats *out)
{
    /* The lock is state of the spine's machinery, not of its contents. */
    spine *s = (spine *)cs;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->mu);
    out->rows = s->rows;
    out->bytes = s->bytes;
    out->batches = s->batches;
    for (unsigned l = 0; l < SPINE_LEVELS; l++) {
        out->level_batches[l] = s->lv[l].n;
        for (uint32_t k = 0; k < s->lv[l].n; k++)
            out->filtered += s->lv[l].b[k]->filter != NULL;
    }
    out->pending = s->pending;
    out->fanout = s->fanout;
    out->merges = s->merges;
    out->merge_rows = s->merge_rows;
    out->negatives = s->neg;
    out->sweeps = s->sweeps;
    out->sweep_rows = s->sweep_rows;
    out->waits = s->waits;
    out->wait_ns = s->wait_ns;
    pthread_mutex_unlock(&s->mu);
}

/* ---- Merge jobs (caller has s BUSY or held) ----------------------------------- */

unsigned spine_has_work(spine *s)
{
    pthread_mutex_lock(&s->mu);
    unsigned w = work_locked(s);
    pthread_mutex_unlock(&s->mu);
    return w;
}

static void job_drop(spine *s, unsigned l)
{
    spine_job *j = s->job[l];
    if (j == NULL)
        return;
    spine_merge_fini(&j->mg);
    ivm_free(j);
    s->job[l] = NULL;
    pthread_mutex_lock(&s->mu);
    s->lv[l].merging = 0;
    pthread_mutex_unlock(&s->mu);
}

static void sweep_drop(spine *s)
{
    spine_job *j = s->sweep;
    if (j == NULL)
        return;
    spine_merge_fini(&j->mg);
    ivm_free(j);
    s->sweep = NULL;
    pthread_mutex_lock(&s->mu);
    for (unsigned l = s->sweep_lo; l < SPINE_LEVELS; l++)
        s->lv[l].merging = 0;
    s->sweep_lo = SPINE_LEVELS;
    pthread_mutex_unlock(&s->mu);
}

void spine_jobs_drop(spine *s)
{
    for (unsigned l = 0; l < SPINE_LEVELS; l++)
        job_drop(s, l);
    sweep_drop(s);
}

/* Makes the spine failed with rc (sticky) and wakes a waiting producer so
 * that it sees the error. */
static void fail_spine(spine *s, ivm_rc rc)
{
    pthread_mutex_lock(&s->mu);
    s->rc = rc;
    rt_waker w = take_waker_locked(s);
    rt_waker_wake(&w); /* under the lock: S11 */
    pthread_mutex_unlock(&s->mu);
}

/* Starts the merge job of level l over its oldest batches.  The batch
 * pointers are read under the lock; the batches themselves are immutable
 * (S6) and stay on the level, referenced, until the job publishes or is
 * dropped, so the merge reads them without the lock. */
static ivm_rc job_start(spine *s, unsigned l)
{
    const spine_batch *in[SPINE_MERGE_CAP];
    spine_job *j = ivm_malloc(sizeof *j);
    if (j == NULL)
        return IVM_NOMEM;
    pthread_mutex_lock(&s->mu);
    spine_level *lv = &s->lv[l];
    uint32_t k = IVM_MIN(lv->n, merge_max(s));
    for (uint32_t i = 0; i < k; i++)
        in[i] = lv->b[i];
    lv->merging = k;
    /* S18: filters only where exact seeks will ask them (not while unread). */
    bool filter = s->exact;
    pthread_mutex_unlock(&s->mu);
    ivm_rc rc = spine_merge_init(&j->mg, in, k, filter);
    if (rc != IVM_OK) {
        ivm_free(j);
        pthread_mutex_lock(&s->mu);
        lv->merging = 0;
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    j->level = l;
    s->job[l] = j;
    return IVM_OK;
}

/* Replaces the job's inputs by its output under the lock (keeps S7: the
 * output is their consolidated sum), then releases the inputs and wakes a
 * producer that waits for the spine to come back under its threshold.
 * *more_out: whether the spine has merge work left, seen under the same
 * lock (the merger needs no second look, S12). */
static ivm_rc job_publish(spine *s, unsigned l, unsigned *more_out)
{
    spine_job *j = s->job[l];
    size_t read = j->mg.read;
    spine_batch *out = spine_merge_finish(&j->mg);
    ivm_free(j);
    s->job[l] = NULL;
    spine_batch *dropped[SPINE_MERGE_CAP];
    ivm_rc rc = IVM_OK;

    pthread_mutex_lock(&s->mu);
    spine_level *lv = &s->lv[l];
    uint32_t k = lv->merging;
    if (out->n > 0)
        rc = level_reserve(&s->lv[spine_level_of(out->n, s->level_bits)]);
    if (rc != IVM_OK) {
        /* Nowhere to put the output: keep the inputs, which hold the same
         * sum, and fail (sticky). */
        lv->merging = 0;
        pthread_mutex_unlock(&s->mu);
        spine_batch_unref(out);
        fail_spine(s, rc);
        *more_out = 0; /* a failed spine has no work */
        return rc;
    }
    /* Negatives settled by a sweep stay settled as far as the inputs' count
     * goes (the output has no more fresh ones than the inputs had: every
     * negative output entry had a negative input), so a sweep's work is
     * never counted twice (README: retraction sweeps).  The output is not
     * shared yet (S6). */
    size_t settled = 0;
    for (uint32_t i = 0; i < k; i++)
        settled += lv->b[i]->settled;
    out->settled = IVM_MIN(settled, out->neg);
    remove_oldest_locked(s, l, k, dropped);
    lv->merging = 0;
    if (out->n > 0)
        place_locked(s, out);
    s->merges++;
    s->merge_rows += read;
    *more_out = work_locked(s);
    rt_waker w = take_waker_locked(s);
    rt_waker_wake(&w); /* under the lock: S11 */
    pthread_mutex_unlock(&s->mu);

    if (out->n == 0)
        spine_batch_unref(out); /* everything cancelled (keeps S8: no empty batch) */
    for (uint32_t i = 0; i < k; i++)
        spine_batch_unref(dropped[i]);
    return IVM_OK;
}

/* Starts the retraction sweep from level lo (due and startable at the
 * slice's look, and still so: only this thread starts jobs or removes
 * batches): its inputs are every batch of the levels from lo up, which
 * therefore start no merge of their own until it publishes (S9).  Inserts
 * keep appending to those levels meanwhile. */
static ivm_rc sweep_start(spine *s, unsigned lo)
{
    const spine_batch *in[SPINE_MERGE_CAP];
    spine_job *j = ivm_malloc(sizeof *j);
    if (j == NULL)
        return IVM_NOMEM;
    size_t k = 0;
    pthread_mutex_lock(&s->mu);
    for (unsigned l = SPINE_LEVELS; l-- > lo;) {
        spine_level *lv = &s->lv[l];
        IVM_ASSERT(lv->merging == 0);
        uint32_t take = IVM_MIN(lv->n, (uint32_t)(SPINE_MERGE_CAP - k));
        for (uint32_t i = 0; i < take; i++)
            in[k++] = lv->b[i];
        lv->merging = take;
    }
    s->sweep_lo = lo;
    bool filter = s->exact; /* S18, as job_start */
    pthread_mutex_unlock(&s->mu);
    ivm_rc rc = spine_merge_init(&j->mg, in, k, filter);
    if (rc != IVM_OK) {
        ivm_free(j);
        pthread_mutex_lock(&s->mu);
        for (unsigned l = lo; l < SPINE_LEVELS; l++)
            s->lv[l].merging = 0;
        s->sweep_lo = SPINE_LEVELS;
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    j->level = lo;
    s->sweep = j;
    return IVM_OK;
}

/* Publishes the sweep as job_publish does a level's job: its inputs, the
 * oldest batches of each level from sweep_lo up, are replaced by their
 * consolidated sum (keeps S7), placed on the level its size decides, which
 * may be below sweep_lo when most of it cancelled.  Its negative entries
 * have met every other entry the sweep read: they are settled, and count
 * towards no later sweep. */
static ivm_rc sweep_publish(spine *s, unsigned *more_out)
{
    spine_job *j = s->sweep;
    size_t read = j->mg.read;
    spine_batch *out = spine_merge_finish(&j->mg);
    ivm_free(j);
    s->sweep = NULL;
    spine_batch *dropped[SPINE_MERGE_CAP];
    size_t nd = 0;
    ivm_rc rc = IVM_OK;

    pthread_mutex_lock(&s->mu);
    unsigned lo = s->sweep_lo;
    if (out->n > 0)
        rc = level_reserve(&s->lv[spine_level_of(out->n, s->level_bits)]);
    if (rc != IVM_OK) {
        for (unsigned l = lo; l < SPINE_LEVELS; l++)
            s->lv[l].merging = 0;
        s->sweep_lo = SPINE_LEVELS;
        pthread_mutex_unlock(&s->mu);
        spine_batch_unref(out);
        fail_spine(s, rc);
        *more_out = 0;
        return rc;
    }
    out->settled = out->neg; /* not shared yet (S6) */
    for (unsigned l = lo; l < SPINE_LEVELS; l++) {
        uint32_t k = s->lv[l].merging;
        remove_oldest_locked(s, l, k, dropped + nd);
        nd += k;
        s->lv[l].merging = 0;
    }
    s->sweep_lo = SPINE_LEVELS;
    if (out->n > 0)
        place_locked(s, out);
    s->merges++;
    s->merge_rows += read;
    s->sweeps++;
    s->sweep_rows += read;
    *more_out = work_locked(s);
    rt_waker w = take_waker_locked(s);
    rt_waker_wake(&w); /* under the lock: S11 */
    pthread_mutex_unlock(&s->mu);

    if (out->n == 0)
        spine_batch_unref(out);
    for (size_t i = 0; i < nd; i++)
        spine_batch_unref(dropped[i]);
    return IVM_OK;
}

/* Whether batch b lacks the key filter that a merge of this spine would
 * give it (S18's conditions; an unread spine's merges gave it none). */
static bool lacks_filter(const spine *s, const spine_batch *b)
{
    return s->exact && b->filter == NULL && b->n >= SPINE_FILTER_MIN && b->klen[0] > 0;
}

/* spine_unread_end's shape, applied by the thread that owns the jobs, which
 * were dropped: every batch goes to the level its size has at the read
 * fan-in (keeps S8), the ones without a filter first on their level and
 * counted stale (S21), so that merges give each one a filter soon, however
 * few batches its level holds.  Pending is counted anew; it may rise (the
 * one exception to S13), and the producer then waits as for any backlog.
 * IVM_NOMEM changes nothing. */
static ivm_rc relevel_locked(spine *s)
{
    unsigned bits = s->bits_read;
    spine_level nl[SPINE_LEVELS];
    memset(nl, 0, sizeof nl);
    for (unsigned l = 0; l < SPINE_LEVELS; l++) {
        IVM_ASSERT(s->lv[l].merging == 0);
        for (uint32_t k = 0; k < s->lv[l].n; k++)
            nl[spine_level_of(s->lv[l].b[k]->n, bits)].cap++;
    }
    /* Allocated under the lock, as level_reserve does: once per spine. */
    for (unsigned l = 0; l < SPINE_LEVELS; l++) {
        if (nl[l].cap == 0)
            continue;
        nl[l].b = ivm_malloc((size_t)nl[l].cap * sizeof *nl[l].b);
        if (nl[l].b == NULL) {
            for (unsigned j = 0; j < l; j++)
                ivm_free(nl[j].b);
            return IVM_NOMEM;
        }
    }
    /* Old levels from the largest down, each oldest first: about the age
     * order that merges keep within a level. */
    for (int pass = 0; pass < 2; pass++)
        for (unsigned l = SPINE_LEVELS; l-- > 0;)
            for (uint32_t k = 0; k < s->lv[l].n; k++) {
                spine_batch *b = s->lv[l].b[k];
                if (lacks_filter(s, b) != (pass == 0))
                    continue;
                spine_level *to = &nl[spine_level_of(b->n, bits)];
                to->b[to->n++] = b;
                to->stale += pass == 0;
                to->rows += b->n;
                to->fresh += b->neg - b->settled;
            }
    s->fanout = s->fanout_read;
    s->level_bits = bits;
    s->pending = 0;
    for (unsigned l = 0; l < SPINE_LEVELS; l++) {
        ivm_free(s->lv[l].b);
        s->lv[l] = nl[l];
        s->pending += excess(s, &s->lv[l]);
    }
    s->relevel = false;
    return IVM_OK;
}

/* A slice that applies spine_unread_end: the merges in progress, begun
 * for the unread shape, are dropped (their inputs stay), which gives up
 * their work for the read shape at once.  Caller has s BUSY. */
static spine_slice_rc relevel_slice(spine *s, unsigned *more_out)
{
    spine_jobs_drop(s);
    pthread_mutex_lock(&s->mu);
    ivm_rc rc = relevel_locked(s);
    if (rc == IVM_OK) {
        *more_out = work_locked(s);
        rt_waker w = take_waker_locked(s);
        rt_waker_wake(&w); /* under the lock: S11 */
    }
    pthread_mutex_unlock(&s->mu);
    if (rc != IVM_OK)
        fail_spine(s, rc);
    return SPINE_SLICE_WORKED;
}

spine_slice_rc spine_slice(spine *s, size_t budget, unsigned want, bool (*fault)(void),
                           size_t *read_out, unsigned *more_out)
{
    *read_out = 0;
    *more_out = 0;
    /* The next job in turn (the levels, then the sweep as slot
     * SPINE_LEVELS) of the class asked for, else the next in turn of
     * either: every job of a class gets a slice of that class before any
     * gets a second one (README: fairness). */
    const unsigned slots = SPINE_LEVELS + 1;
    unsigned pick = slots, any = slots, lo = SPINE_LEVELS;
    pthread_mutex_lock(&s->mu);
    bool relevel = s->rc == IVM_OK && s->relevel;
    if (s->rc == IVM_OK && !relevel) {
        sweep_due_locked(s, &lo);
        for (unsigned i = 0; i < slots; i++) {
            unsigned c = (s->rr + i) % slots;
            unsigned cls = c == SPINE_LEVELS ? sweep_work_locked(s, lo) : level_work_locked(s, c, lo);
            if (cls == 0)
                continue;
            if (any == slots)
                any = c;
            if (cls & want) {
                pick = c;
                break;
            }
        }
        if (pick == slots)
            pick = any;
    }
    pthread_mutex_unlock(&s->mu);
    if (relevel)
        return relevel_slice(s, more_out);
    if (pick == slots)
        return SPINE_SLICE_NONE;
    s->rr = (pick + 1) % slots;
    spine_job **slot = pick == SPINE_LEVELS ? &s->sweep : &s->job[pick];
    if (*slot == NULL) {
        if (fault != NULL && fault()) {
            *more_out = SPINE_WORK_ANY; /* the job is still to start */
            return SPINE_SLICE_FAULT;
        }
        ivm_rc rc = pick == SPINE_LEVELS ? sweep_start(s, lo) : job_start(s, pick);
        if (rc != IVM_OK) {
            fail_spine(s, rc);
            return SPINE_SLICE_WORKED;
        }
    }
    spine_job *j = *slot;
    size_t before = j->mg.read;
    bool done = spine_merge_step(&j->mg, budget);
    *read_out = j->mg.read - before;
    if (done) {
        if (pick == SPINE_LEVELS)
            sweep_publish(s, more_out);
        else
            job_publish(s, pick, more_out);
    } else {
        *more_out = spine_has_work(s); /* this job at least */
    }
    return SPINE_SLICE_WORKED;
}

/* ---- Compaction ------------------------------------------------------------------ */

ivm_rc spine_compact(spine *s)
{
    spine_batch **all = NULL;
    spine_batch *merged = NULL;
    uint32_t taken[SPINE_LEVELS]; /* batches of each level in all[] */
    bool filter = false;
    ivm_rc rc;

    /* Take the spine from the merger: jobs in progress are dropped (their
     * inputs stay) and this thread merges everything. */
    spine_merger_hold(s->m, s);
    spine_jobs_drop(s);
    /* A spine_unread_end not yet applied is applied here (this thread owns
     * the jobs now), so that what compaction leaves has the read shape. */
    pthread_mutex_lock(&s->mu);
    rc = s->rc == IVM_OK && s->relevel ? relevel_locked(s) : IVM_OK;
    pthread_mutex_unlock(&s->mu);
    if (rc != IVM_OK)
        goto out; /* nothing changed: not sticky */
    size_t k;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        rc = s->rc;
        k = s->batches;
        pthread_mutex_unlock(&s->mu);
        if (rc != IVM_OK || k <= 1)
            goto out; /* one batch is already consolidated (S3, S4) */
        all = ivm_malloc(k * sizeof *all);
        rc = IVM_NOMEM;
        if (all == NULL)
            goto out;
        /* Only the owner inserts and the merger leaves a held spine alone,
         * so the count does not change; if a caller breaks that contract,
         * count again rather than overrun the array. */
        pthread_mutex_lock(&s->mu);
        bool same = s->batches == k;
        filter = s->exact;
        for (unsigned l = 0, i = 0; same && l < SPINE_LEVELS; l++) {
            taken[l] = s->lv[l].n;
            for (uint32_t j = 0; j < s->lv[l].n; j++)
                all[i++] = s->lv[l].b[j];
        }
        pthread_mutex_unlock(&s->mu);
        if (same)
            break;
        ivm_free(all);
        all = NULL;
    }
    rc = spine_merge_all((const spine_batch *const *)all, k, filter, &merged);
    if (rc != IVM_OK)
        goto out; /* nothing changed: not sticky */
    size_t read = 0; /* entries read, for the statistics */
    for (size_t x = 0; x < k; x++)
        read += all[x]->n;
    /* Every batch met every other: its negatives are settled (README:
     * retraction sweeps).  Not shared yet (S6). */
    merged->settled = merged->neg;
    pthread_mutex_lock(&s->mu);
    if (merged->n > 0)
        rc = level_reserve(&s->lv[spine_level_of(merged->n, s->level_bits)]);
    if (rc == IVM_OK) {
        /* Exactly the batches merged go: each level's oldest (inserts only
         * append).  Their references are the ones in all[], released
         * below. */
        for (unsigned l = 0, i = 0; l < SPINE_LEVELS; i += taken[l], l++)
            remove_oldest_locked(s, l, taken[l], all + i);
        if (merged->n > 0)
            place_locked(s, merged);
        s->merges++;
        s->merge_rows += read;
    }
    rt_waker w = take_waker_locked(s);
    rt_waker_wake(&w); /* under the lock: S11 */
    pthread_mutex_unlock(&s->mu);
    if (rc != IVM_OK) {
        spine_batch_unref(merged);
        goto out;
    }
    if (merged->n == 0)
        spine_batch_unref(merged);
    for (size_t x = 0; x < k; x++)
        spine_batch_unref(all[x]);
out:
    ivm_free(all);
    spine_merger_release(s->m, s);
    return rc;
}

/* ---- Check -------------------------------------------------------------------------- */

ivm_rc spine_check(const spine *cs)
{
    spine *s = (spine *)cs;
    size_t rows = 0, bytes = 0, batches = 0, pending = 0, neg = 0, fresh = 0;
    size_t swept = 0; /* batches in the running sweep */
    ivm_rc rc = IVM_OK;
    /* S12, with the merger's lock, taken before the spine's. */
    if (!spine_merger_tracks(s->m, s))
        return IVM_CORRUPT;
    pthread_mutex_lock(&s->mu);
    /* S21: the unread shape until spine_unread_end's re-leveling, then the
     * read one; filters from merges only once it is read. */
    bool unread_shape = s->unread || s->relevel;
    if (s->level_bits != (unread_shape ? SPINE_LEVEL_BITS_UNREAD : s->bits_read) ||
        s->fanout != 1u << s->level_bits || s->exact != (s->exact_opt && !s->unread) ||
        (s->unread && s->relevel))
        rc = IVM_CORRUPT;
    for (unsigned l = 0; l < SPINE_LEVELS && rc == IVM_OK; l++) {
        const spine_level *lv = &s->lv[l];
        bool in_sweep = l >= s->sweep_lo;
        if (lv->n > lv->cap || lv->merging > lv->n ||
            (!in_sweep && (lv->merging > merge_max(s) ||
                           (lv->merging > 0 && lv->merging < s->fanout && lv->stale == 0)))) {
            rc = IVM_CORRUPT; /* S9 */
            break;
        }
        if (in_sweep)
            swept += lv->merging;
        if (lv->stale > lv->n || (lv->stale > 0 && (s->unread || s->relevel))) {
            rc = IVM_CORRUPT; /* S21 */
            break;
        }
        size_t lrows = 0, lfresh = 0;
        for (uint32_t k = 0; k < lv->n; k++) {
            const spine_batch *b = lv->b[k];
            if (b == NULL || b->n == 0 || spine_level_of(b->n, s->level_bits) != l ||
                (k < lv->stale && b->filter != NULL)) {
                rc = IVM_CORRUPT; /* S8, S21 */
                break;
            }
            if (spine_batch_check(b) != IVM_OK) {
                rc = IVM_CORRUPT;
                break;
            }
            rows += b->n;
            bytes += spine_batch_mem(b);
            batches++;
            neg += b->neg;
            lrows += b->n;
            lfresh += b->neg - b->settled;
        }
        if (rc == IVM_OK && (lrows != lv->rows || lfresh != lv->fresh))
            rc = IVM_CORRUPT; /* S22: the counts sweeps are decided by */
        fresh += lfresh;
        pending += excess(s, lv);
    }
    if (rc == IVM_OK && (rows != s->rows || bytes != s->bytes || batches != s->batches ||
                         pending != s->pending || neg != s->neg || fresh != s->fresh))
        rc = IVM_CORRUPT;
    /* S9: a sweep takes at least two batches, at most SPINE_MERGE_CAP, and
     * only from levels at or above its floor. */
    if (rc == IVM_OK && s->sweep_lo < SPINE_LEVELS &&
        (swept < 2 || swept > SPINE_MERGE_CAP || s->sweep_lo < sweep_floor(s)))
        rc = IVM_CORRUPT;
    /* S11: a producer waits only while the spine is over its threshold. */
    if (rc == IVM_OK && s->waker.fn != NULL && s->pending <= s->max_pending && s->rc == IVM_OK)
        rc = IVM_CORRUPT;
    pthread_mutex_unlock(&s->mu);
    return rc;
}
