package io.tollgate.cloud.ledger;

import io.tollgate.cloud.TestDatabases;
import org.junit.Rule;
import org.junit.rules.TemporaryFolder;

public class H2LedgerTest extends LedgerContract {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();
    private String url;

    @Override
    protected String freshUrl() throws Exception {
        url = TestDatabases.h2(tmp.newFolder("h2").toPath());
        return url;
    }

    @Override
    protected String freshUrlOfOpenDb() {
        return url;
    }

    @Override
    protected void dispose() {
        // TemporaryFolder removes the files
    }
}
