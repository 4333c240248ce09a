package dev.sessionguard.instrumentation.hibernate;

/** What the Hibernate advice needs of the library, shared by its targets. */
final class HibernateApi {

    /** Types of the Hibernate 5.2+ API the advice uses: 4.3 to 5.1 have their own advice. */
    static final String[] REQUIRED_TYPES = {
        "org.hibernate.engine.spi.SharedSessionContractImplementor",
        "org.hibernate.resource.transaction.spi.TransactionStatus",
    };

    /** Types of the Hibernate 4.3 to 5.1 API LegacySessionInstrumentation uses. */
    static final String[] REQUIRED_TYPES_LEGACY_SESSION = {
        "org.hibernate.engine.spi.SessionImplementor",
    };

    /** Types of the Hibernate 5.0/5.1 API Transaction50Instrumentation uses. */
    static final String[] REQUIRED_TYPES_50 = {
        "org.hibernate.engine.spi.SessionImplementor",
        "org.hibernate.resource.transaction.TransactionCoordinator",
        "org.hibernate.resource.transaction.spi.TransactionStatus",
    };

    /** Types of the Hibernate 4.x API Transaction4Instrumentation uses. */
    static final String[] REQUIRED_TYPES_4 = {
        "org.hibernate.engine.spi.SessionImplementor",
        "org.hibernate.engine.transaction.spi.LocalStatus",
    };

    static final String SESSION = "org.hibernate.internal.SessionImpl";
    static final String TRANSACTION = "org.hibernate.engine.transaction.internal.TransactionImpl";
    /** Hibernate 4.x's transactions (JdbcTransaction, JtaTransaction, CMTTransaction): commit() and rollback() are here. */
    static final String ABSTRACT_TRANSACTION = "org.hibernate.engine.transaction.spi.AbstractTransactionImpl";

    /** SessionImpl and its transaction class (TransactionImpl, 4.x: AbstractTransactionImpl) are woven together or not at all. */
    static final String LIBRARY = "Hibernate ORM";

    private HibernateApi() {
    }
}
