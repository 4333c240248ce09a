package dev.sessionguard.apps.shop;

import org.springframework.http.ResponseEntity;
import org.springframework.transaction.TransactionSystemException;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/** POST /orders/{id}: 200 when the order is committed, 500 with the exception otherwise. */
@RestController
public class OrderController {

    private final OrderService orders;

    public OrderController(OrderService orders) {
        this.orders = orders;
    }

    @PostMapping("/orders/{id}")
    public ResponseEntity<String> place(@PathVariable("id") long id) {
        try {
            orders.place(id);
            return ResponseEntity.ok("committed");
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            if (rollbackOverrode(e)) {
                // Spring's "Application exception overridden by rollback exception": the cleanup's failure
                // is what reaches the caller, not the failure that mattered
                LegacyShop.storms.escapedCleanup("rollback: " + e.getClass().getSimpleName());
            }
            return ResponseEntity.status(500).body(e.getClass().getName() + ": " + e.getMessage());
        }
    }

    /**
     * The rollback failed and its exception replaced the application's or the commit's. Spring 5 (Boot 2.7) throws
     * a TransactionSystemException that carries the application's exception; Spring 6 and 7 (Boot 3, 4) log
     * "Application exception overridden by rollback exception" and throw the rollback's failure as translated by
     * JpaTransactionManager (a JpaSystemException over Hibernate's "Unable to rollback against JDBC Connection").
     */
    static boolean rollbackOverrode(Throwable e) {
        if (e instanceof TransactionSystemException
                && (((TransactionSystemException) e).getApplicationException() != null
                    || String.valueOf(e.getMessage()).contains("roll back"))) {
            return true;
        }
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (String.valueOf(t.getMessage()).contains("Unable to rollback")) {
                return true;
            }
        }
        return false;
    }
}
