-- Sql sources without source.url run on Steward's own database as steward_reader (see
-- src/stages/data/sql.ts): a NOLOGIN role with no rights on Steward's tables. A team exposes a
-- table to it with GRANT SELECT ON <table> TO steward_reader. Roles belong to the cluster, so
-- another Steward database in the same cluster may have created it already.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'steward_reader') THEN
    BEGIN
      CREATE ROLE steward_reader NOLOGIN;
    EXCEPTION
      -- Another database of this cluster is migrating at the same moment and won the race.
      WHEN duplicate_object OR unique_violation THEN NULL;
      WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'steward migrate cannot create the role steward_reader: %', SQLERRM
          USING HINT = format('As a database superuser run: CREATE ROLE steward_reader NOLOGIN; GRANT steward_reader TO %I; then run steward migrate again.', current_user);
    END;
  END IF;
  -- Steward switches to the role with SET LOCAL ROLE, which needs membership.
  IF NOT pg_catalog.pg_has_role(current_user, 'steward_reader', 'MEMBER') THEN
    BEGIN
      EXECUTE format('GRANT steward_reader TO %I', current_user);
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE EXCEPTION 'steward migrate cannot make % a member of steward_reader: %', current_user, SQLERRM
        USING HINT = format('As a database superuser run: GRANT steward_reader TO %I; then run steward migrate again.', current_user);
    END;
  END IF;
END $$;
--> statement-breakpoint
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM steward_reader;
--> statement-breakpoint
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM steward_reader;
--> statement-breakpoint
REVOKE ALL ON ALL TABLES IN SCHEMA drizzle FROM steward_reader;
--> statement-breakpoint
-- SET ROLE alone does not confine a query: the query itself could call
-- set_config('role', 'none', true) and then run SQL as Steward's user through a function such
-- as query_to_xml(). Inside a SECURITY DEFINER function PostgreSQL refuses any change of role or
-- session_authorization, so the query runs through this one, owned by steward_reader. It opens
-- the query as a cursor (one statement only; no DDL) and returns the column names, then each
-- row, as text arrays.
CREATE SCHEMA IF NOT EXISTS steward_sql;
--> statement-breakpoint
REVOKE ALL ON SCHEMA steward_sql FROM PUBLIC;
--> statement-breakpoint
-- CREATE only for the change of owner below, revoked right after.
GRANT USAGE, CREATE ON SCHEMA steward_sql TO steward_reader;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION steward_sql.read_rows(query text) RETURNS SETOF text[]
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  cur refcursor;
  rec record;
  first boolean := true;
BEGIN
  OPEN cur NO SCROLL FOR EXECUTE query;
  LOOP
    FETCH cur INTO rec;
    EXIT WHEN NOT FOUND;
    IF first THEN
      RETURN NEXT (SELECT pg_catalog.array_agg(e.key ORDER BY e.n)
        FROM pg_catalog.json_each(pg_catalog.row_to_json(rec)) WITH ORDINALITY AS e(key, value, n));
      first := false;
    END IF;
    RETURN NEXT (SELECT pg_catalog.array_agg(e.value ORDER BY e.n)
      FROM pg_catalog.json_each_text(pg_catalog.row_to_json(rec)) WITH ORDINALITY AS e(key, value, n));
  END LOOP;
  CLOSE cur;
END $$;
--> statement-breakpoint
ALTER FUNCTION steward_sql.read_rows(text) OWNER TO steward_reader;
--> statement-breakpoint
REVOKE CREATE ON SCHEMA steward_sql FROM steward_reader;
--> statement-breakpoint
REVOKE ALL ON FUNCTION steward_sql.read_rows(text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION steward_sql.read_rows(text) TO steward_reader;
