// Package schema brings a site's OMFLOW SQLite database (db.omflow) to the schema of a
// release, without dropping or changing anything of the site's.
//
// OMFLOW changes its schema between releases by shipping a new db.omflow, not by Django
// migrations, so `manage.py migrate` has nothing to do and a site that keeps its own
// database fails at start (1.1.0.0 on a 1.0.0.1 database: "no such column:
// omformflow_flowactive.api_path"). Here the release's shipped database is the schema
// wanted ("the release") and the site's database is what must reach it ("the site").
//
// [Read] reads a schema without writing anything; [Plan] compares two schemas and says
// what reconciling adds, or refuses with an [*UnsafeError]; [NeedsValue] lists the columns
// for which the caller must ask Django for a model default; [Apply] re-reads, re-plans
// and makes the changes in one SQLite transaction.
//
// # Rules
//
// Tables named omformmodel_omdata_<32 lowercase hex>, alone or followed by "_" and
// anything (_datano, _valuehistory), are made at run time for each form a site designs
// ([IsRuntimeFormTable]). On the site's side they are site data; on the release's side
// they are its sample forms, not schema. Reconciling never touches them on either side:
// no table, column or index of theirs is created, altered or compared. SQLite's internal
// sqlite_* tables are not schema either.
//
//  1. A table the release has and the site lacks is created with the release's exact
//     CREATE TABLE text, and the release's rows are copied into it (rowids kept). For an
//     AUTOINCREMENT table the release's sqlite_sequence entry is carried over too, so ids
//     the release has used are never handed out again.
//  2. A column the release's table has and the site's same-named table lacks is added
//     with its definition exactly as the release's CREATE TABLE declares it, by
//     ALTER TABLE ADD COLUMN when SQLite allows that: the column is not PRIMARY KEY, not
//     UNIQUE, not a STORED generated column, not named by a table constraint, its default
//     is a constant (not CURRENT_TIME, CURRENT_DATE, CURRENT_TIMESTAMP or an expression in
//     parentheses), and it is not NOT NULL without a (non-NULL) default. Foreign keys are
//     off during the transaction, so a REFERENCES column with a default is added too.
//     A NOT NULL column without a default for which the caller gives a [Values] entry
//     (Django's model default; [NeedsValue] lists these columns, empty tables too) is
//     added by ALTER with that value as its DEFAULT: the site's rows get it, and so does
//     a row inserted later by code that knows nothing of the column (the previous
//     version's, after a rollback that keeps today's database). The column then differs
//     from the release's declaration by that DEFAULT only.
//     Otherwise the table is rebuilt, SQLite's 12 steps: the release's CREATE TABLE under
//     a temporary name, the site's rows copied in (every column the site has, rowids
//     kept; an added NOT NULL column without default gets the caller's [Values] entry,
//     Django's model default), the old table dropped, the new one renamed, the site's
//     indexes and triggers of that table recreated from their SQL, its sqlite_sequence
//     entry kept, and PRAGMA foreign_key_check must then report nothing for it. A rebuild
//     is refused ([*UnsafeError]) when the site's table has a column the release's lacks
//     (it would be lost), and, when the site's table holds rows: when an added NOT NULL
//     column has no default and no [Values] entry (Django's model gives none), when an
//     added column is a PRIMARY KEY, when an added UNIQUE column would give more than
//     one row the same non-NULL value, and when the release declares a column both have
//     with another type affinity (the copy would convert the site's values). An empty
//     site table needs no value and is rebuilt freely.
//  3. An index the release has and the site lacks (by name), on a table the site has or
//     gets and that is not a runtime form table, is created with the release's SQL. A
//     unique index that the site's data violates fails the whole update, naming the index.
//  4. Other differences are left alone and are not errors: a column both have whose type
//     or constraints differ, and tables, columns and indexes the site has and the release
//     lacks. Nothing of the site's is dropped or changed.
//  5. django_migrations rows (app, name) the release has and the site lacks are inserted
//     into the site's table with the release's applied time: the release's database is
//     the schema after those migrations, and reconciling has just made what they would
//     have made. If either side has no django_migrations table, nothing is recorded.
//  6. No row of a table the site already has is inserted, updated or deleted, apart from a
//     rebuild copying the rows as they are and rule 5.
//  7. Everything happens in one transaction, which ends with PRAGMA integrity_check: if
//     any step fails or the check does not answer "ok", the transaction is rolled back
//     and the site's file is as it was.
package schema
