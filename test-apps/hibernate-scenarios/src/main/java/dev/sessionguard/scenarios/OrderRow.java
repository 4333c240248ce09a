package dev.sessionguard.scenarios;

/**
 * An order as a mapped entity, for the scenarios that need Hibernate to know what a transaction holds.
 * No annotations: the same class maps under javax (Hibernate 5.6) and jakarta (6.x, 7.x) through the
 * orm.xml that {@link Db#sessionFactory(javax.sql.DataSource, boolean, boolean)} writes for the run's table.
 */
public class OrderRow {
    private Long id;
    private String item;

    public OrderRow() {
    }

    OrderRow(long id) {
        this.id = id;
        this.item = "order-" + id;
    }
}
