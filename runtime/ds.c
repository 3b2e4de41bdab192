/*
 * ds.c: the dataspace, a shared space of assertions (owner, key, value).
 * Each dataspace has one mutex that orders everything done to it: every
 * assert and retract takes the next sequence number and is copied, as an
 * event, into the queue of every matching subscription before the mutex is
 * let go, so all subscribers see one order.  An assertion's key and value
 * live in one immutable, reference-counted "fact" shared by the dataspace
 * and by the events that name it, so an event costs no copy.  A global
 * registry of live dataspaces lets rt_ds_retract_owner (called by the
 * supervisor on every exit) reach them all.  It is meant for catalog-sized
 * state and rare changes, not for rows.  Design and invariants R23-R27 in
 * runtime/README.md.
 */
#include "runtime.h"

#include <pthread.h>
#include <stdio.h>

/* An assertion, and afterwards whatever events still name it.  key and
 * value sit in the same allocation and never change. */
typedef struct fact {
    uint32_t refs;            /* the dataspace's while live, one per event; under ds->mu */
    bool live;                /* asserted now */
    uint64_t owner;
    uint64_t seq;             /* when it was asserted */
    uint64_t hash;            /* of the key */
    struct fact *hnext;       /* hash chain, while live */
    struct fact *prev, *next; /* assertion order, while live */
    size_t klen, vlen;
    char *key;
    unsigned char *value;
} fact;

typedef struct ev {
    rt_ds_kind kind;
    uint64_t seq;
    fact *f;                  /* holds a reference */
} ev;

struct rt_ds_sub {
    rt_ds *ds;
    char *pattern;
    size_t plen;              /* for a prefix: the length before '*' */
    bool prefix;
    rt_waker waker;
    ev *q;                    /* ring: q[(head + i) % cap], i < n */
    size_t cap, head, n;
    fact *current;            /* of the last event handed out (R26) */
    bool notify;              /* went non-empty during the current change */
    uint64_t lost;            /* events dropped for want of memory */
    struct rt_ds_sub *prev, *next;
};

struct rt_ds {
    pthread_mutex_t mu;       /* guards everything in the dataspace */
    uint64_t seq;             /* last sequence number given out */
    fact **buckets;
    size_t nbuckets, nfacts;
    fact *first, *last;       /* live facts in assertion order */
    rt_ds_sub *subs;
    struct rt_ds *reg_prev, *reg_next; /* in the registry, under reg_mu */
};

/* Every live dataspace, for rt_ds_retract_owner.  Lock order: reg_mu, then
 * a dataspace's mu. */
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static rt_ds *registry;

enum { MIN_BUCKETS = 16 };

/* ---- Facts ---------------------------------------------------------------- */

static uint64_t key_hash(const char *key, size_t klen)
{
    return ivm_hash_bytes(key, klen, 0x6473); /* any fixed seed */
}

static fact *fact_new(uint64_t owner, const char *key, size_t klen, const void *value,
                      size_t vlen)
{
    /* The value starts on a 16-byte boundary after the key and its NUL. */
    size_t voff = (sizeof(fact) + klen + 1 + 15) & ~(size_t)15;
    fact *f = ivm_malloc(voff + vlen);
    if (f == NULL)
        return NULL;
    memset(f, 0, sizeof *f);
    f->owner = owner;
    f->klen = klen;
    f->vlen = vlen;
    f->key = (char *)(f + 1);
    memcpy(f->key, key, klen);
    f->key[klen] = '\0';
    f->value = (unsigned char *)f + voff;
    if (vlen > 0)
        memcpy(f->value, value, vlen);
    f->hash = key_hash(key, klen);
    return f;
}

static void fact_unref_locked(fact *f)
{
    if (f != NULL && --f->refs == 0)
        ivm_free(f);
}

static bool matches(const rt_ds_sub *s, const char *key, size_t klen)
{
    if (s->prefix)
        return klen >= s->plen && memcmp(key, s->pattern, s->plen) == 0;
    return klen == s->plen && memcmp(key, s->pattern, klen) == 0;
}

/* A pattern ending in '*' is a prefix; anything else is an exact key. */
static void pattern_parse(const char *pattern, size_t *plen_out, bool *prefix_out)
{
    size_t n = strlen(pattern);
    *prefix_out = n > 0 && pattern[n - 1] == '*';
    *plen_out = *prefix_out ? n - 1 : n;
}

/* ---- Index: hash chains and the assertion order ------------------------------ */

static void index_grow_locked(rt_ds *ds)
{
    size_t nb = ds->nbuckets * 2;
    fact **b = ivm_calloc(nb, sizeof *b);
    if (b == NULL)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < ds->nbuckets; i++) {
        fact *f = ds->buckets[i];
        while (f != NULL) {
            fact *nx = f->hnext;
            size_t at = f->hash & (nb - 1);
            f->hnext = b[at];
            b[at] = f;
            f = nx;
        }
    }
    ivm_free(ds->buckets);
    ds->buckets = b;
    ds->nbuckets = nb;
}

static fact *find_locked(rt_ds *ds, uint64_t owner, const char *key, size_t klen, uint64_t h)
{
    for (fact *f = ds->buckets[h & (ds->nbuckets - 1)]; f != NULL; f = f->hnext)
        if (f->hash == h && f->owner == owner && f->klen == klen &&
            memcmp(f->key, key, klen) == 0)
            return f;
    return NULL;
}

static void link_locked(rt_ds *ds, fact *f)
{
    size_t at = f->hash & (ds->nbuckets - 1);
    f->hnext = ds->buckets[at];
    ds->buckets[at] = f;
    f->prev = ds->last;
    f->next = NULL;
    if (ds->last != NULL)
        ds->last->next = f;
    else
        ds->first = f;
    ds->last = f;
    f->live = true;
    f->refs++;
    ds->nfacts++;
    if (ds->nfacts > ds->nbuckets)
        index_grow_locked(ds);
}

/* Takes f out of the index; the caller drops the dataspace's reference. */
static void unlink_locked(rt_ds *ds, fact *f)
{
    fact **pp = &ds->buckets[f->hash & (ds->nbuckets - 1)];
    while (*pp != f)
        pp = &(*pp)->hnext;
    *pp = f->hnext;
    if (f->prev != NULL)
        f->prev->next = f->next;
    else
        ds->first = f->next;
    if (f->next != NULL)
        f->next->prev = f->prev;
    else
        ds->last = f->prev;
    f->hnext = f->prev = f->next = NULL;
    f->live = false;
    ds->nfacts--;
}

/* ---- Subscriber queues ------------------------------------------------------------ */

/* Makes room for `more` events in s's queue. */
static ivm_rc reserve(rt_ds_sub *s, size_t more)
{
    if (s->n + more <= s->cap)
        return IVM_OK;
    size_t cap = s->cap ? s->cap : 16;
    while (cap < s->n + more)
        cap *= 2;
    ev *q = ivm_malloc(cap * sizeof *q);
    if (q == NULL)
        return IVM_NOMEM;
    for (size_t i = 0; i < s->n; i++)
        q[i] = s->q[(s->head + i) % s->cap];
    ivm_free(s->q);
    s->q = q;
    s->cap = cap;
    s->head = 0;
    return IVM_OK;
}

/* Appends an event naming f to s's queue (room reserved, or reserved here:
 * keeps R24 unless memory runs out, which is counted and logged). */
static void emit_locked(rt_ds_sub *s, rt_ds_kind kind, uint64_t seq, fact *f)
{
    if (reserve(s, 1) != IVM_OK) {
        if (s->lost++ == 0)
            rt_log("dataspace: subscription \"%s\" lost events: out of memory", s->pattern);
        return;
    }
    if (s->n == 0)
        s->notify = true;
    s->q[(s->head + s->n) % s->cap] = (ev){kind, seq, f};
    s->n++;
    f->refs++;
}

/* Reserves room for `per` events in every subscription that matches key. */
static ivm_rc reserve_matching_locked(rt_ds *ds, const char *key, size_t klen, size_t per)
{
    for (rt_ds_sub *s = ds->subs; s != NULL; s = s->next)
        if (matches(s, key, klen) && reserve(s, per) != IVM_OK)
            return IVM_NOMEM;
    return IVM_OK;
}

static void emit_matching_locked(rt_ds *ds, rt_ds_kind kind, uint64_t seq, fact *f)
{
    for (rt_ds_sub *s = ds->subs; s != NULL; s = s->next)
        if (matches(s, f->key, f->klen))
            emit_locked(s, kind, seq, f);
}

/* Calls the waker of every queue that went from empty to non-empty during
 * this change, under the lock (R27). */
static void notify_locked(rt_ds *ds)
{
    for (rt_ds_sub *s = ds->subs; s != NULL; s = s->next) {
        if (!s->notify)
            continue;
        s->notify = false;
        rt_waker_wake(&s->waker);
    }
}

/* Retracts live fact f: a new sequence number, an event to every matching
 * subscriber, then out of the index. */
static void retract_locked(rt_ds *ds, fact *f)
{
    uint64_t seq = ++ds->seq;
    emit_matching_locked(ds, RT_DS_RETRACT, seq, f);
    unlink_locked(ds, f);
    fact_unref_locked(f);
}

/* ---- Dataspaces ---------------------------------------------------------------------- */

ivm_rc rt_ds_new(rt_ds **out)
{
    rt_ds *ds = ivm_calloc(1, sizeof *ds);
    if (ds == NULL)
        return IVM_NOMEM;
    ds->buckets = ivm_calloc(MIN_BUCKETS, sizeof *ds->buckets);
    if (ds->buckets == NULL) {
        ivm_free(ds);
        return IVM_NOMEM;
    }
    ds->nbuckets = MIN_BUCKETS;
    pthread_mutex_init(&ds->mu, NULL);
    pthread_mutex_lock(&reg_mu);
    ds->reg_next = registry;
    if (registry != NULL)
        registry->reg_prev = ds;
    registry = ds;
    pthread_mutex_unlock(&reg_mu);
    *out = ds;
    return IVM_OK;
}

static void sub_free_locked(rt_ds_sub *s)
{
    for (size_t i = 0; i < s->n; i++)
        fact_unref_locked(s->q[(s->head + i) % s->cap].f);
    fact_unref_locked(s->current);
    ivm_free(s->q);
    ivm_free(s->pattern);
    ivm_free(s);
}

void rt_ds_free(rt_ds *ds)
{
    if (ds == NULL)
        return;
    /* Out of the registry first: no rt_ds_retract_owner can reach it now. */
    pthread_mutex_lock(&reg_mu);
    if (ds->reg_prev != NULL)
        ds->reg_prev->reg_next = ds->reg_next;
    else
        registry = ds->reg_next;
    if (ds->reg_next != NULL)
        ds->reg_next->reg_prev = ds->reg_prev;
    pthread_mutex_unlock(&reg_mu);

    pthread_mutex_lock(&ds->mu);
    while (ds->subs != NULL) {
        rt_ds_sub *s = ds->subs;
        ds->subs = s->next;
        sub_free_locked(s);
    }
    for (fact *f = ds->first; f != NULL;) {
        fact *nx = f->next;
        fact_unref_locked(f);
        f = nx;
    }
    pthread_mutex_unlock(&ds->mu);
    pthread_mutex_destroy(&ds->mu);
    ivm_free(ds->buckets);
    ivm_free(ds);
}

ivm_rc rt_ds_assert(rt_ds *ds, uint64_t owner, const char *key, const void *value, size_t vlen)
{
    if (key == NULL || key[0] == '\0' || (value == NULL && vlen > 0))
        return IVM_INVALID;
    size_t klen = strlen(key);
    fact *f = fact_new(owner, key, klen, value, vlen); /* outside the lock */
    if (f == NULL)
        return IVM_NOMEM;

    pthread_mutex_lock(&ds->mu);
    fact *old = find_locked(ds, owner, key, klen, f->hash);
    /* All or nothing: room for every event first (keeps R24). */
    if (reserve_matching_locked(ds, key, klen, old != NULL ? 2 : 1) != IVM_OK) {
        pthread_mutex_unlock(&ds->mu);
        ivm_free(f);
        return IVM_NOMEM;
    }
    if (old != NULL)
        retract_locked(ds, old); /* asserting again: retract, then assert */
    f->seq = ++ds->seq;
    link_locked(ds, f);
    emit_matching_locked(ds, RT_DS_ASSERT, f->seq, f);
    notify_locked(ds);
    pthread_mutex_unlock(&ds->mu);
    return IVM_OK;
}

ivm_rc rt_ds_retract(rt_ds *ds, uint64_t owner, const char *key)
{
    if (key == NULL)
        return IVM_INVALID;
    size_t klen = strlen(key);
    uint64_t h = key_hash(key, klen);
    pthread_mutex_lock(&ds->mu);
    fact *f = find_locked(ds, owner, key, klen, h);
    ivm_rc rc = IVM_INVALID;
    if (f != NULL) {
        rc = reserve_matching_locked(ds, key, klen, 1);
        if (rc == IVM_OK) {
            retract_locked(ds, f);
            notify_locked(ds);
        }
    }
    pthread_mutex_unlock(&ds->mu);
    return rc;
}

void rt_ds_retract_owner(uint64_t owner)
{
    /* Keeps R25: reg_mu keeps every dataspace alive while we go through. */
    pthread_mutex_lock(&reg_mu);
    for (rt_ds *ds = registry; ds != NULL; ds = ds->reg_next) {
        pthread_mutex_lock(&ds->mu);
        for (fact *f = ds->first; f != NULL;) {
            fact *nx = f->next;
            if (f->owner == owner)
                retract_locked(ds, f); /* in assertion order */
            f = nx;
        }
        notify_locked(ds);
        pthread_mutex_unlock(&ds->mu);
    }
    pthread_mutex_unlock(&reg_mu);
}

ssize_t rt_ds_get(rt_ds *ds, const char *key, void *buf, size_t cap)
{
    if (key == NULL)
        return -1;
    size_t klen = strlen(key);
    uint64_t h = key_hash(key, klen);
    ssize_t len = -1;
    pthread_mutex_lock(&ds->mu);
    const fact *best = NULL;
    for (const fact *f = ds->buckets[h & (ds->nbuckets - 1)]; f != NULL; f = f->hnext)
        if (f->hash == h && f->klen == klen && memcmp(f->key, key, klen) == 0 &&
            (best == NULL || f->seq < best->seq))
            best = f;
    if (best != NULL) {
        if (cap > 0)
            memcpy(buf, best->value, IVM_MIN(cap, best->vlen));
        len = (ssize_t)best->vlen;
    }
    pthread_mutex_unlock(&ds->mu);
    return len;
}

void rt_ds_scan(rt_ds *ds, const char *pattern, void (*fn)(void *arg, const rt_ds_event *ev),
                void *arg)
{
    if (pattern == NULL || pattern[0] == '\0')
        return;
    rt_ds_sub probe = {.pattern = (char *)pattern};
    pattern_parse(pattern, &probe.plen, &probe.prefix);
    pthread_mutex_lock(&ds->mu);
    for (const fact *f = ds->first; f != NULL; f = f->next) {
        if (!matches(&probe, f->key, f->klen))
            continue;
        rt_ds_event e = {RT_DS_ASSERT, f->owner, f->seq, f->key, f->value, f->vlen};
        fn(arg, &e);
    }
    pthread_mutex_unlock(&ds->mu);
}

/* ---- Subscriptions ------------------------------------------------------------------- */

ivm_rc rt_ds_subscribe(rt_ds *ds, const char *pattern, rt_waker waker, rt_ds_sub **out)
{
    if (pattern == NULL || pattern[0] == '\0')
        return IVM_INVALID;
    rt_ds_sub *s = ivm_calloc(1, sizeof *s);
    if (s == NULL)
        return IVM_NOMEM;
    s->pattern = ivm_strndup(pattern, strlen(pattern));
    if (s->pattern == NULL) {
        ivm_free(s);
        return IVM_NOMEM;
    }
    pattern_parse(pattern, &s->plen, &s->prefix);
    s->ds = ds;
    s->waker = waker;

    pthread_mutex_lock(&ds->mu);
    /* Keeps R23: the snapshot is taken and the subscription linked under
     * one hold of the lock, so no change falls between them. */
    size_t n = 0;
    for (const fact *f = ds->first; f != NULL; f = f->next)
        n += matches(s, f->key, f->klen);
    if (reserve(s, n) != IVM_OK) {
        pthread_mutex_unlock(&ds->mu);
        ivm_free(s->pattern);
        ivm_free(s);
        return IVM_NOMEM;
    }
    for (fact *f = ds->first; f != NULL; f = f->next)
        if (matches(s, f->key, f->klen))
            emit_locked(s, RT_DS_ASSERT, f->seq, f);
    s->notify = false; /* the subscriber drains the snapshot itself */
    s->next = ds->subs;
    if (ds->subs != NULL)
        ds->subs->prev = s;
    ds->subs = s;
    pthread_mutex_unlock(&ds->mu);
    *out = s;
    return IVM_OK;
}

bool rt_ds_next(rt_ds_sub *sub, rt_ds_event *out)
{
    rt_ds *ds = sub->ds;
    pthread_mutex_lock(&ds->mu);
    /* Keeps R26: the previous event's fact is let go only now. */
    fact_unref_locked(sub->current);
    sub->current = NULL;
    bool got = sub->n > 0;
    if (got) {
        ev e = sub->q[sub->head];
        sub->head = (sub->head + 1) % sub->cap;
        sub->n--;
        sub->current = e.f; /* the queue's reference moves here */
        *out = (rt_ds_event){e.kind, e.f->owner, e.seq, e.f->key, e.f->value, e.f->vlen};
    }
    pthread_mutex_unlock(&ds->mu);
    return got;
}

void rt_ds_unsubscribe(rt_ds_sub *sub)
{
    if (sub == NULL)
        return;
    rt_ds *ds = sub->ds;
    pthread_mutex_lock(&ds->mu);
    if (sub->prev != NULL)
        sub->prev->next = sub->next;
    else
        ds->subs = sub->next;
    if (sub->next != NULL)
        sub->next->prev = sub->prev;
    sub_free_locked(sub);
    pthread_mutex_unlock(&ds->mu);
}
