package io.tollgate.cloud.ledger;

import static org.junit.Assume.assumeTrue;

import io.tollgate.cloud.TestDatabases;

/** The same contract against a real PostgreSQL (127.0.0.1:5432, user postgres): a fresh database per test. */
public class PostgresLedgerTest extends LedgerContract {
    private String url;

    @Override
    protected String freshUrl() {
        url = TestDatabases.createPostgres();
        assumeTrue("SKIPPED: no PostgreSQL at 127.0.0.1:5432", url != null);
        return url;
    }

    @Override
    protected String freshUrlOfOpenDb() {
        return url;
    }

    @Override
    protected void dispose() throws Exception {
        TestDatabases.dropPostgres(url);
    }
}
