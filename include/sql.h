/*
 * sql.h: the SQL front end.  A re2c lexer (sql/lexer.re) and a lemon grammar
 * (sql/grammar.y) turn text into statement trees (declared in planner.h)
 * with source positions.  The engine behind ivm.h (sql/engine.c) also lives
 * in this module: it keeps the catalog, the tables and the views' circuits.
 * Design: sql/README.md.
 */
#ifndef IVM_SQL_H
#define IVM_SQL_H

#include "ivm_base.h"
#include "planner.h"

/* Parses a text of zero or more statements separated by ';'.  Not
 * thread-safe; one parser per thread. */
typedef struct sql_parser sql_parser;

/* src[0..len) is borrowed and must outlive the parser (it need not be
 * NUL-terminated).  first_line is the line number of src's first line
 * (positions in errors and trees count from it).  IVM_INVALID for a text of
 * 4 GiB or more, IVM_NOMEM. */
ivm_rc sql_parser_new(const char *src, size_t len, uint32_t first_line, sql_parser **out);
void sql_parser_free(sql_parser *p);

/* Parses the next statement.  On IVM_OK *out is the tree, or NULL at the
 * end of the text; the tree (and every string in it) lives in the parser's
 * arena until the next call or sql_parser_free (its source texts point into
 * src).  On failure err (set with ivm_err_set: clear it first) holds the
 * message and the line and column of the offending token, for example
 *   near "selec": syntax error        with err->line 7, err->col 1
 * and the parser skips past the next ';' so that parsing can go on.
 * Errors: IVM_SYNTAX (syntax, bad literal, nesting too deep),
 * IVM_UNSUPPORTED (unknown type name, WITH RECURSIVE, window functions),
 * IVM_SCHEMA (two primary keys), IVM_NOMEM.  Messages: sql/README.md. */
ivm_rc sql_parse_next(sql_parser *p, plan_stmt **out, ivm_err *err);

/* True if text ends a complete statement: a ';' outside quotes and comments
 * ends it (as sqlite3_complete decides, for the statements ivm knows).
 * Thread-safe. */
bool sql_complete(const char *text, size_t len);

#endif /* IVM_SQL_H */
