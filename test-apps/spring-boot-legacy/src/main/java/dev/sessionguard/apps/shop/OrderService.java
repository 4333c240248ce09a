package dev.sessionguard.apps.shop;

import dev.sessionguard.apps.kit.Storms;
import javax.persistence.EntityManager;
import javax.persistence.PersistenceContext;
import org.hibernate.Session;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** The shop's service, as found: one @Transactional method per use case. */
@Service
public class OrderService {

    @PersistenceContext
    private EntityManager em;

    @Transactional
    public void place(long id) throws InterruptedException {
        em.createNativeQuery("insert into " + LegacyShop.table + " (id, item) values (" + id + ", 'order " + id + "')")
                .executeUpdate();
        Storms.Hold hold = LegacyShop.HOLDS.remove(id);
        if (hold != null) {
            hold.inside(em.unwrap(Session.class).doReturningWork(c -> Storms.backendId(c, "select pg_backend_pid()")));
        }
        // the remote system answered: the order is confirmed in the same transaction
        em.createNativeQuery("update " + LegacyShop.table + " set item = 'confirmed " + id + "' where id = " + id)
                .executeUpdate();
    }
}
