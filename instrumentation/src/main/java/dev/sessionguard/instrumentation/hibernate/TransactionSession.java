package dev.sessionguard.instrumentation.hibernate;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.annotation.AnnotationDescription;
import net.bytebuddy.description.field.FieldDescription;
import net.bytebuddy.description.field.FieldList;
import net.bytebuddy.description.method.ParameterDescription;
import net.bytebuddy.implementation.Implementation;
import net.bytebuddy.implementation.bytecode.StackManipulation;
import net.bytebuddy.implementation.bytecode.member.FieldAccess;
import net.bytebuddy.implementation.bytecode.member.MethodVariableAccess;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.matcher.ElementMatchers;

/**
 * Binds an advice parameter to the session of a {@code TransactionImpl}, whatever the version keeps of it:
 * its field {@code session} (Hibernate 5.3 to 7.x), or, where it has none (4.x to 5.2), the session that owns its
 * {@code transactionCoordinator}, found by {@code Guard.transactionOwner} at run time. Chosen per woven class
 * when the advice is applied, so one advice serves every version (docs/weaving.md, "Hibernate versions").
 */
@Retention(RetentionPolicy.RUNTIME)
@java.lang.annotation.Target(ElementType.PARAMETER)
public @interface TransactionSession {

    /** The binding, registered with the agent's advice (Targets.bindings()). */
    Advice.OffsetMapping.Factory<TransactionSession> BINDING = new Advice.OffsetMapping.Factory<TransactionSession>() {
        @Override
        public Class<TransactionSession> getAnnotationType() {
            return TransactionSession.class;
        }

        @Override
        public Advice.OffsetMapping make(ParameterDescription.InDefinedShape target,
                                         AnnotationDescription.Loadable<TransactionSession> annotation, AdviceType adviceType) {
            return (instrumentedType, instrumentedMethod, assigner, argumentHandler, sort) -> {
                FieldList<FieldDescription.InDefinedShape> session =
                        instrumentedType.getDeclaredFields().filter(ElementMatchers.named("session"));
                if (!session.isEmpty()) {
                    return new Advice.OffsetMapping.Target.ForField.ReadOnly(session.getOnly());
                }
                FieldList<FieldDescription.InDefinedShape> coordinator =
                        instrumentedType.getDeclaredFields().filter(ElementMatchers.named("transactionCoordinator"));
                if (coordinator.isEmpty()) {
                    throw new IllegalStateException(instrumentedType.getName()
                            + " has neither a field session nor a field transactionCoordinator");
                }
                return new Advice.OffsetMapping.Target.ForStackManipulation(new StackManipulation.Compound(
                        MethodVariableAccess.loadThis(),
                        FieldAccess.forField(coordinator.getOnly()).read(),
                        TRANSACTION_OWNER));
            };
        }
    };

    /** {@code Guard.transactionOwner(Object): Object}, called on the coordinator on the stack. */
    StackManipulation TRANSACTION_OWNER = new StackManipulation.AbstractBase() {
        @Override
        public Size apply(MethodVisitor mv, Implementation.Context context) {
            mv.visitMethodInsn(Opcodes.INVOKESTATIC, "dev/sessionguard/bootstrap/Guard", "transactionOwner",
                    "(Ljava/lang/Object;)Ljava/lang/Object;", false);
            return Size.ZERO;
        }
    };
}
