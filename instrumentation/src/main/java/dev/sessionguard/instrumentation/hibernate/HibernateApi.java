package dev.sessionguard.instrumentation.hibernate;

/** What the Hibernate advice needs of the library, shared by its targets. */
final class HibernateApi {

    /** Types of the Hibernate 5.2+ API the advice uses: older versions (4.x, 5.0, 5.1) are left alone. */
    static final String[] REQUIRED_TYPES = {
        "org.hibernate.engine.spi.SharedSessionContractImplementor",
        "org.hibernate.resource.transaction.spi.TransactionStatus",
    };

    /** SessionImpl and TransactionImpl are woven together or not at all. */
    static final String LIBRARY = "Hibernate ORM";

    private HibernateApi() {
    }
}
