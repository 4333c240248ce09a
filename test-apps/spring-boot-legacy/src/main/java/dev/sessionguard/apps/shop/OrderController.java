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
    public ResponseEntity<String> place(@PathVariable long id) {
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

    /** The rollback failed and its exception replaced the application's or the commit's. */
    static boolean rollbackOverrode(Throwable e) {
        return e instanceof TransactionSystemException
                && (((TransactionSystemException) e).getApplicationException() != null
                    || String.valueOf(e.getMessage()).contains("roll back"));
    }
}
