package dev.sessionguard.instrumentation.hibernate;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.annotation.AnnotationDescription;
import net.bytebuddy.description.field.FieldDescription;
import net.bytebuddy.description.field.FieldList;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.method.MethodList;
import net.bytebuddy.description.method.ParameterDescription;
import net.bytebuddy.implementation.bytecode.StackManipulation;
import net.bytebuddy.implementation.bytecode.member.MethodInvocation;
import net.bytebuddy.implementation.bytecode.member.MethodVariableAccess;
import net.bytebuddy.matcher.ElementMatchers;

/**
 * Binds an advice parameter to the status of the woven Hibernate transaction, whatever the version calls it: its
 * {@code getStatus()} (TransactionImpl, 5.0 to 7.x: a TransactionStatus), or the field {@code localStatus} (4.x's
 * AbstractTransactionImpl: a LocalStatus). Read where the advice reads the parameter, so after a wait before it.
 * Only the name of the value counts (Guard.skipRollback), so one rollback advice serves 4.x to 7.x. A class with
 * neither does not fit (docs/weaving.md, "Hibernate versions").
 */
@Retention(RetentionPolicy.RUNTIME)
@java.lang.annotation.Target(ElementType.PARAMETER)
public @interface TransactionState {

    /** The binding, registered with the agent's advice (Targets.bindings()). */
    Advice.OffsetMapping.Factory<TransactionState> BINDING = new Advice.OffsetMapping.Factory<TransactionState>() {
        @Override
        public Class<TransactionState> getAnnotationType() {
            return TransactionState.class;
        }

        @Override
        public Advice.OffsetMapping make(ParameterDescription.InDefinedShape target,
                                         AnnotationDescription.Loadable<TransactionState> annotation, AdviceType adviceType) {
            return (instrumentedType, instrumentedMethod, assigner, argumentHandler, sort) -> {
                FieldList<FieldDescription.InDefinedShape> local =
                        instrumentedType.getDeclaredFields().filter(ElementMatchers.named("localStatus"));
                if (!local.isEmpty()) {
                    return new Advice.OffsetMapping.Target.ForField.ReadOnly(local.getOnly());
                }
                MethodList<MethodDescription.InDefinedShape> getStatus = instrumentedType.getDeclaredMethods()
                        .filter(ElementMatchers.<MethodDescription>named("getStatus").and(ElementMatchers.takesArguments(0)));
                if (getStatus.isEmpty()) {
                    throw new IllegalStateException(instrumentedType.getName() + " has neither getStatus() nor a field localStatus");
                }
                return new Advice.OffsetMapping.Target.ForStackManipulation(new StackManipulation.Compound(
                        MethodVariableAccess.loadThis(), MethodInvocation.invoke(getStatus.getOnly())));
            };
        }
    };
}
