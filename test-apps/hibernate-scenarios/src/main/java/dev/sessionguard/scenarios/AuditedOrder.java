package dev.sessionguard.scenarios;

/**
 * An order audited by Hibernate Envers ({@link EnversScenario}). Envers' own annotation (the same in 5.x,
 * 6.x and 7.x); the JPA mapping comes from an orm.xml, so that javax and jakarta alike map it.
 */
@org.hibernate.envers.Audited
public class AuditedOrder {
    private Long id;
    private String item;

    public AuditedOrder() {
    }

    AuditedOrder(long id) {
        this.id = id;
        this.item = "order-" + id;
    }
}
