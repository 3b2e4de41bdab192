/*
 * shrink.c: makes a failing case small.  Each attempt edits the model in
 * place (marks statements, tables, views, rows, columns or FROM items dead;
 * drops a clause; replaces an expression by one of its operands or by a
 * literal), renders it and runs it again in a child process; the edit stays
 * if the run still fails with the same kind of failure, and is undone
 * otherwise.  Statements are removed delta-debugging style: halves first,
 * then quarters, down to single statements.  Passes repeat until none makes
 * progress or the time budget is spent.  Statements after the failing one
 * are dropped as soon as it is known.  See proptests/README.md.
 */
#include "prop_int.h"

#include <time.h>

/* ---- Undo log --------------------------------------------------------------- */

typedef struct undo {
    bool *flag;
    bool fold;
    pexpr **slot;
    pexpr *xold;
    int *ip;
    int iold;
    pquery **qslot;
    pquery *qold;
} undo;

typedef struct shr {
    pcase *c;
    const pshrink_opts *o;
    int kind;
    poutcome best;
    int tries, accepted;
    struct timespec t0;
    bool out_of_time;
    undo *log;
    int nlog, logcap;
    ptext last;              /* the script of the case as it stands */
} shr;

static undo *log_add(shr *s)
{
    if (s->nlog == s->logcap) {
        s->logcap = s->logcap ? s->logcap * 2 : 64;
        undo *l = realloc(s->log, sizeof *l * (size_t)s->logcap);
        if (l == NULL)
            pt_oom();
        s->log = l;
    }
    undo *u = &s->log[s->nlog++];
    memset(u, 0, sizeof *u);
    return u;
}

static void set_flag(shr *s, bool *f, bool v)
{
    if (*f == v)
        return;
    undo *u = log_add(s);
    u->flag = f;
    u->fold = *f;
    *f = v;
}

static void set_slot(shr *s, pexpr **slot, pexpr *v)
{
    undo *u = log_add(s);
    u->slot = slot;
    u->xold = *slot;
    *slot = v;
}

static void set_int(shr *s, int *p, int v)
{
    undo *u = log_add(s);
    u->ip = p;
    u->iold = *p;
    *p = v;
}

static void rollback(shr *s)
{
    while (s->nlog > 0) {
        undo *u = &s->log[--s->nlog];
        if (u->flag)
            *u->flag = u->fold;
        if (u->slot)
            *u->slot = u->xold;
        if (u->ip)
            *u->ip = u->iold;
    }
}

static double elapsed(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Drops every step after the one the failure happened at. */
static void truncate_after(shr *s, const pscript *sc, int stmt)
{
    if (stmt < 0 || stmt >= sc->n)
        return;
    int last = sc->s[stmt].step;
    for (int i = last + 1; i < s->c->nsteps; i++)
        s->c->steps[i].dead = true;
}

static void script_text(const pscript *sc, ptext *t)
{
    t->n = 0;
    pt_put(t, "", 0);
    for (int i = 0; i < sc->n; i++) {
        pt_puts(t, sc->s[i].sql);
        pt_puts(t, ";\n");
    }
}

/* Runs the edited case: keeps the edits if it still fails alike.  An edit
 * that does not change the script (it touched something already gone) is
 * kept without a run and is no progress. */
static bool attempt(shr *s)
{
    if (s->nlog == 0)
        return false;
    if (s->out_of_time || elapsed(&s->t0) > s->o->seconds) {
        s->out_of_time = true;
        rollback(s);
        return false;
    }
    pscript sc = {0};
    pt_render(s->c, &sc);
    ptext now = {0};
    script_text(&sc, &now);
    if (strcmp(now.p, s->last.p) == 0) {
        s->nlog = 0;
        pt_text_free(&now);
        pt_script_free(&sc);
        return false;
    }
    poutcome out;
    pstats st;
    memset(&st, 0, sizeof st);
    pt_run(&sc, &s->o->run, &out, &st);
    s->tries++;
    bool keep = out.kind == s->kind && strcmp(out.sig, s->best.sig) == 0;
    if (keep) {
        s->best = out;
        s->nlog = 0;
        s->accepted++;
        truncate_after(s, &sc, out.stmt);
        pt_script_free(&sc);
        pt_render(s->c, &sc);
        script_text(&sc, &s->last);
        if (s->o->verbose)
            fprintf(stderr, "  shrink: %d statements\n", out.stmt + 1);
    } else {
        rollback(s);
    }
    pt_text_free(&now);
    pt_script_free(&sc);
    return keep;
}

/* ---- Walking the model ---------------------------------------------------------- */

static bool q_uses(const pquery *q, int kind, int rel);

static bool x_uses(const pexpr *e, int kind, int rel)
{
    if (e == NULL)
        return false;
    if (e->kind == X_SUBQ && q_uses(e->sub, kind, rel))
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (x_uses(e->args[i], kind, rel))
            return true;
    return false;
}

static bool q_uses(const pquery *q, int kind, int rel)
{
    for (; q != NULL; q = q->setop != SET_NONE ? q->next : NULL) {
        for (int i = 0; i < q->nsrc; i++) {
            const psrc *sr = &q->src[i];
            if (sr->dead)
                continue;
            if (sr->kind == kind && sr->rel == rel)
                return true;
            if (sr->kind == SRC_SUB && q_uses(sr->sub, kind, rel))
                return true;
            if (x_uses(sr->on, kind, rel))
                return true;
        }
        if (x_uses(q->where, kind, rel) || x_uses(q->having, kind, rel))
            return true;
        for (int i = 0; i < q->nitems; i++)
            if (!q->items[i].dead && x_uses(q->items[i].e, kind, rel))
                return true;
    }
    return false;
}

/* Marks view vi and every live view over it dead. */
static void kill_view(shr *s, int vi)
{
    pcase *c = s->c;
    set_flag(s, &c->views[vi].dead, true);
    for (int i = 0; i < c->nsteps; i++)
        if (!c->steps[i].dead && c->steps[i].sel != NULL &&
            q_uses(c->steps[i].sel, SRC_VIEW, vi))
            set_flag(s, &c->steps[i].dead, true);
    for (int j = vi + 1; j < c->nviews; j++)
        if (!c->views[j].dead && q_uses(c->views[j].q, SRC_VIEW, vi))
            kill_view(s, j);
}

typedef struct slots {
    pexpr ***p;
    int n, cap;
} slots;

static void slot_add(slots *sl, pexpr **p)
{
    if (*p == NULL)
        return;
    if (sl->n == sl->cap) {
        sl->cap = sl->cap ? sl->cap * 2 : 128;
        pexpr ***n = realloc(sl->p, sizeof *n * (size_t)sl->cap);
        if (n == NULL)
            pt_oom();
        sl->p = n;
    }
    sl->p[sl->n++] = p;
}

static void q_slots(slots *sl, pquery *q);

static void x_slots(slots *sl, pexpr **p)
{
    pexpr *e = *p;
    if (e == NULL)
        return;
    slot_add(sl, p);
    for (int i = 0; i < e->nargs; i++)
        x_slots(sl, &e->args[i]);
    if (e->kind == X_SUBQ)
        q_slots(sl, e->sub);
}

static void q_slots(slots *sl, pquery *q)
{
    for (; q != NULL; q = q->setop != SET_NONE ? q->next : NULL) {
        for (int i = 0; i < q->nitems; i++)
            if (!q->items[i].dead)
                x_slots(sl, &q->items[i].e);
        x_slots(sl, &q->where);
        for (int i = 0; i < q->ngroup; i++)
            x_slots(sl, &q->group[i]);
        x_slots(sl, &q->having);
        for (int i = 0; i < q->nsrc; i++) {
            if (q->src[i].dead)
                continue;
            x_slots(sl, &q->src[i].on);
            if (q->src[i].kind == SRC_SUB)
                q_slots(sl, q->src[i].sub);
        }
    }
}

static void case_slots(pcase *c, slots *sl)
{
    sl->n = 0;
    for (int i = 0; i < c->nsteps; i++) {
        pstep *st = &c->steps[i];
        if (st->dead)
            continue;
        if (st->kind == S_VIEW && !c->views[st->rel].dead)
            q_slots(sl, c->views[st->rel].q);
        if (st->kind == S_DELETE || st->kind == S_UPDATE)
            x_slots(sl, &st->where);
        if (st->kind == S_INSERT && st->sel != NULL)
            q_slots(sl, st->sel);
        if (st->kind == S_UPDATE)
            for (int k = 0; k < st->nset; k++)
                if (!st->setdead[k])
                    x_slots(sl, &st->setval[k]);
    }
}

/* ---- Passes ------------------------------------------------------------------------ */

/* Removes statements: chunks of half the live ones, then quarters, down to
 * one at a time (ddmin). */
static bool pass_steps(shr *s)
{
    pcase *c = s->c;
    bool progress = false;
    int *idx = pt_xmalloc(sizeof *idx * (size_t)(c->nsteps + 1));
    int n = 0;
    for (int i = 0; i < c->nsteps; i++)
        if (!c->steps[i].dead && c->steps[i].kind != S_TABLE)
            n++;
    for (int chunk = n / 2 > 0 ? n / 2 : 1; chunk >= 1 && !s->out_of_time; chunk /= 2) {
        n = 0;
        for (int i = 0; i < c->nsteps; i++)
            if (!c->steps[i].dead && c->steps[i].kind != S_TABLE)
                idx[n++] = i;
        for (int start = n - chunk; start > -chunk && !s->out_of_time; start -= chunk) {
            int from = start < 0 ? 0 : start;
            for (int k = from; k < start + chunk; k++)
                if (k < n)
                    set_flag(s, &c->steps[idx[k]].dead, true);
            progress |= attempt(s);
        }
        if (chunk == 1)
            break;
    }
    free(idx);
    return progress;
}

static bool pass_tables(shr *s)
{
    pcase *c = s->c;
    bool progress = false;
    for (int t = 0; t < c->ntables && !s->out_of_time; t++) {
        if (c->tables[t].dead)
            continue;
        set_flag(s, &c->tables[t].dead, true);
        for (int i = 0; i < c->nsteps; i++) {
            pstep *st = &c->steps[i];
            if (st->dead || (st->kind != S_INSERT && st->kind != S_DELETE &&
                             st->kind != S_UPDATE))
                continue;
            if (st->rel == t || (st->sel != NULL && q_uses(st->sel, SRC_TABLE, t)))
                set_flag(s, &st->dead, true);
        }
        for (int v = 0; v < c->nviews; v++)
            if (!c->views[v].dead && q_uses(c->views[v].q, SRC_TABLE, t))
                kill_view(s, v);
        progress |= attempt(s);
    }
    for (int v = c->nviews - 1; v >= 0 && !s->out_of_time; v--) {
        if (c->views[v].dead)
            continue;
        kill_view(s, v);
        progress |= attempt(s);
    }
    return progress;
}

static bool pass_rows(shr *s)
{
    pcase *c = s->c;
    bool progress = false;
    for (int i = 0; i < c->nsteps && !s->out_of_time; i++) {
        pstep *st = &c->steps[i];
        if (st->dead || st->kind != S_INSERT)
            continue;
        for (int r = 0; r < st->nrows && !s->out_of_time; r++) {
            int live = 0;
            for (int k = 0; k < st->nrows; k++)
                live += !st->rows[k].dead;
            if (live <= 1 || st->rows[r].dead)
                continue;
            set_flag(s, &st->rows[r].dead, true);
            progress |= attempt(s);
        }
    }
    return progress;
}

static int live_cols(const ptable *t)
{
    int n = 0;
    for (int i = 0; i < t->ncols; i++)
        n += !t->cols[i].dead;
    return n;
}

static bool q_pass_items(shr *s, pquery *q)
{
    bool progress = false;
    for (int i = 0; i < q->nitems && !s->out_of_time && !q->star; i++) {
        int live = 0;
        for (int k = 0; k < q->nitems; k++)
            live += !q->items[k].dead;
        if (q->items[i].dead || live <= 1)
            continue;
        /* Every member of a compound loses the same column. */
        for (pquery *p = q; p != NULL; p = p->setop != SET_NONE ? p->next : NULL)
            if (i < p->nitems)
                set_flag(s, &p->items[i].dead, true);
        progress |= attempt(s);
    }
    for (pquery *p = q; p != NULL; p = p->setop != SET_NONE ? p->next : NULL) {
        for (int i = 1; i < p->nsrc && !s->out_of_time; i++) {
            if (p->src[i].dead)
                continue;
            set_flag(s, &p->src[i].dead, true);
            progress |= attempt(s);
        }
        int live = 0;
        for (int i = 0; i < p->nsrc; i++)
            live += !p->src[i].dead;
        if (live > 1 && !p->src[0].dead && !s->out_of_time) {
            set_flag(s, &p->src[0].dead, true);
            progress |= attempt(s);
        }
    }
    return progress;
}

static bool pass_columns(shr *s)
{
    pcase *c = s->c;
    bool progress = false;
    for (int t = 0; t < c->ntables && !s->out_of_time; t++) {
        ptable *tb = &c->tables[t];
        for (int i = 0; i < tb->ncols && !s->out_of_time; i++) {
            if (tb->dead || tb->cols[i].dead || live_cols(tb) <= 1)
                continue;
            set_flag(s, &tb->cols[i].dead, true);
            progress |= attempt(s);
        }
        /* Constraints go too, one at a time. */
        for (int i = 0; i < tb->ncols && !s->out_of_time; i++) {
            if (tb->dead || tb->cols[i].dead || !tb->cols[i].not_null)
                continue;
            set_flag(s, &tb->cols[i].not_null, false);
            progress |= attempt(s);
        }
        if (!tb->dead && tb->npk > 0 && !s->out_of_time) {
            set_int(s, &tb->npk, 0);
            progress |= attempt(s);
        }
    }
    for (int v = 0; v < c->nviews && !s->out_of_time; v++)
        if (!c->views[v].dead)
            progress |= q_pass_items(s, c->views[v].q);
    for (int i = 0; i < c->nsteps && !s->out_of_time; i++) {
        pstep *st = &c->steps[i];
        if (st->dead || st->kind != S_UPDATE)
            continue;
        for (int k = 0; k < st->nset && !s->out_of_time; k++) {
            int live = 0;
            for (int j = 0; j < st->nset; j++)
                live += !st->setdead[j];
            if (st->setdead[k] || live <= 1)
                continue;
            set_flag(s, &st->setdead[k], true);
            progress |= attempt(s);
        }
    }
    return progress;
}

/* Clause-level simplifications of one query (and its compound members). */
static bool q_simplify(shr *s, pquery *q)
{
    bool progress = false;
    if (q->with && !s->out_of_time) {
        set_flag(s, &q->with, false);
        progress |= attempt(s);
    }
    if (q->limit >= 0 && !s->out_of_time) {
        set_int(s, &q->limit, -1);
        progress |= attempt(s);
    }
    if (q->order && !s->out_of_time) {
        set_flag(s, &q->order, false);
        progress |= attempt(s);
    }
    if (q->setop != SET_NONE && !s->out_of_time) {
        set_int(s, &q->setop, SET_NONE);
        progress |= attempt(s);
    }
    for (pquery *p = q; p != NULL; p = p->setop != SET_NONE ? p->next : NULL) {
        if (p->distinct && !s->out_of_time) {
            set_flag(s, &p->distinct, false);
            progress |= attempt(s);
        }
        if (p->where != NULL && !s->out_of_time) {
            set_slot(s, &p->where, NULL);
            progress |= attempt(s);
        }
        if (p->having != NULL && !s->out_of_time) {
            set_slot(s, &p->having, NULL);
            progress |= attempt(s);
        }
        for (int i = 1; i < p->nsrc && !s->out_of_time; i++) {
            psrc *sr = &p->src[i];
            if (sr->dead)
                continue;
            if (sr->join == J_LEFT || sr->join == J_RIGHT || sr->join == J_FULL) {
                set_int(s, &sr->join, J_INNER);
                progress |= attempt(s);
            }
            if (sr->join == J_INNER && !s->out_of_time) {
                /* The ON condition moves to WHERE: a comma join. */
                pexpr *on = sr->on;
                pexpr *w = p->where;
                if (on != NULL) {
                    pexpr *both = on;
                    if (w != NULL) {
                        both = pt_expr_new(s->c, X_BIN, PT_BOOL, 2);
                        both->op = "AND";
                        both->args[0] = w;
                        both->args[1] = on;
                    }
                    set_int(s, &sr->join, J_COMMA);
                    set_slot(s, &sr->on, NULL);
                    set_slot(s, &p->where, both);
                    progress |= attempt(s);
                }
            }
        }
    }
    return progress;
}

static bool pass_clauses(shr *s)
{
    pcase *c = s->c;
    bool progress = false;
    for (int v = 0; v < c->nviews && !s->out_of_time; v++)
        if (!c->views[v].dead)
            progress |= q_simplify(s, c->views[v].q);
    for (int i = 0; i < c->nsteps && !s->out_of_time; i++) {
        pstep *st = &c->steps[i];
        if (st->dead || (st->kind != S_DELETE && st->kind != S_UPDATE) || st->where == NULL)
            continue;
        set_slot(s, &st->where, NULL);
        progress |= attempt(s);
    }
    return progress;
}

static const char *simple_lit(int type)
{
    switch (type) {
    case PT_INT: return "0";
    case PT_REAL: return "0.5";
    case PT_TEXT: return "'a'";
    default: return "1";
    }
}

/* Replaces expressions by one of their operands or by a literal. */
static bool pass_exprs(shr *s)
{
    bool progress = false;
    slots sl = {0};
    case_slots(s->c, &sl);
    for (int i = 0; i < sl.n && !s->out_of_time; i++) {
        pexpr **slot = sl.p[i];
        pexpr *e = *slot;
        if (e == NULL || e->kind == X_LIT)
            continue;
        bool done = false;
        for (int a = 0; a < e->nargs && !done && !s->out_of_time; a++) {
            if (e->args[a] == NULL)
                continue;
            set_slot(s, slot, e->args[a]);
            done = attempt(s);
        }
        if (!done && e->kind != X_GROUP && !s->out_of_time) {
            set_slot(s, slot, pt_lit(s->c, e->type, "NULL"));
            done = attempt(s);
        }
        if (!done && e->kind != X_GROUP && !s->out_of_time) {
            set_slot(s, slot, pt_lit(s->c, e->type, simple_lit(e->type)));
            done = attempt(s);
        }
        if (done) {
            progress = true;
            /* The tree changed under the list: collect again, go on here. */
            case_slots(s->c, &sl);
            i--;
        }
    }
    free(sl.p);
    return progress;
}

/* Insert values: NULL or a plain literal. */
static bool pass_values(shr *s)
{
    pcase *c = s->c;
    bool progress = false;
    for (int i = 0; i < c->nsteps && !s->out_of_time; i++) {
        pstep *st = &c->steps[i];
        if (st->dead || st->kind != S_INSERT)
            continue;
        const ptable *t = &c->tables[st->rel];
        for (int r = 0; r < st->nrows; r++) {
            if (st->rows[r].dead)
                continue;
            for (int k = 0; k < t->ncols && !s->out_of_time; k++) {
                pexpr **slot = &st->rows[r].vals[k];
                if (t->cols[k].dead || *slot == NULL)
                    continue;
                const char *l = (*slot)->lit;
                /* NULL into the rowid makes SQLite pick a key: another story. */
                bool rowid = t->npk == 1 && t->pk[0] == k && strcmp(t->cols[k].decl, "INTEGER") == 0;
                /* NULL first, then a plain literal; a NULL stays (no
                 * going back and forth). */
                if (l == NULL || strcmp(l, "NULL") == 0)
                    continue;
                if (!rowid) {
                    set_slot(s, slot, pt_lit(c, (*slot)->type, "NULL"));
                    if (attempt(s)) {
                        progress = true;
                        continue;
                    }
                }
                const char *simple = simple_lit((*slot)->type);
                if (strcmp(l, simple) != 0 && !s->out_of_time) {
                    set_slot(s, slot, pt_lit(c, (*slot)->type, simple));
                    progress |= attempt(s);
                }
            }
        }
    }
    return progress;
}

int pt_shrink(pcase *c, const pshrink_opts *o, poutcome *first)
{
    shr s;
    memset(&s, 0, sizeof s);
    s.c = c;
    s.o = o;
    s.kind = first->kind;
    s.best = *first;
    clock_gettime(CLOCK_MONOTONIC, &s.t0);
    {
        pscript sc = {0};
        pt_render(c, &sc);
        truncate_after(&s, &sc, first->stmt);
        pt_script_free(&sc);
        pt_render(c, &sc);
        script_text(&sc, &s.last);
        pt_script_free(&sc);
    }
    bool progress = true;
    for (int round = 0; progress && !s.out_of_time; round++) {
        progress = false;
        progress |= pass_steps(&s);
        progress |= pass_tables(&s);
        progress |= pass_rows(&s);
        progress |= pass_columns(&s);
        progress |= pass_clauses(&s);
        progress |= pass_exprs(&s);
        progress |= pass_values(&s);
    }
    /* The last run that failed is the case as it is now. */
    *first = s.best;
    free(s.log);
    pt_text_free(&s.last);
    return s.tries;
}
