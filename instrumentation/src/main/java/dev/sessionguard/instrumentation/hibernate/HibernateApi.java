package dev.sessionguard.instrumentation.hibernate;

/** What the Hibernate advice needs of the library, shared by its targets. */
final class HibernateApi {

    /** Types of the Hibernate 5.2+ API the advice uses: 5.0 and 5.1 have their own advice, 4.x is left alone. */
    static final String[] REQUIRED_TYPES = {
        "org.hibernate.engine.spi.SharedSessionContractImplementor",
        "org.hibernate.resource.transaction.spi.TransactionStatus",
    };

    /** Types of the Hibernate 5.0/5.1 API the older advice uses (Session50Instrumentation, Transaction50Instrumentation). */
    static final String[] REQUIRED_TYPES_50 = {
        "org.hibernate.engine.spi.SessionImplementor",
        "org.hibernate.resource.transaction.TransactionCoordinator",
        "org.hibernate.resource.transaction.spi.TransactionStatus",
    };

    static final String SESSION = "org.hibernate.internal.SessionImpl";
    static final String TRANSACTION = "org.hibernate.engine.transaction.internal.TransactionImpl";

    /** SessionImpl and TransactionImpl are woven together or not at all. */
    static final String LIBRARY = "Hibernate ORM";

    private HibernateApi() {
    }
}
