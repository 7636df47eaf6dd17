package dev.users.adapter.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/**
 * The request id in the MDC, callback by callback, with the interceptor driven directly on one
 * thread: each callback and send sees its own call's id, and leaves the MDC as it found it.
 */
class RequestIdInterceptorTest {

  private final List<String> seen = new ArrayList<>();

  @AfterEach
  void clear() {
    MDC.clear();
  }

  @Test
  void everyCallbackAndSendSeesItsCallsIdAndLeavesTheMdcAsItFoundIt() {
    var call = new RecordingCall();
    var listener = new RequestIdInterceptor().interceptCall(call, withRequestId("id-1"), (c, headers) -> {
      seen.add("start " + MDC.get(RequestIdInterceptor.MDC_KEY));
      return new ServerCall.Listener<>() {
        @Override
        public void onMessage(Object message) {
          seen.add("onMessage " + MDC.get(RequestIdInterceptor.MDC_KEY));
        }

        @Override
        public void onHalfClose() {
          seen.add("onHalfClose " + MDC.get(RequestIdInterceptor.MDC_KEY));
          c.sendHeaders(new Metadata());
          c.sendMessage("answer");
          c.close(Status.OK, new Metadata());
          seen.add("after sends " + MDC.get(RequestIdInterceptor.MDC_KEY));
        }

        @Override
        public void onComplete() {
          seen.add("onComplete " + MDC.get(RequestIdInterceptor.MDC_KEY));
        }
      };
    });
    assertThat(MDC.get(RequestIdInterceptor.MDC_KEY)).isNull();

    listener.onMessage("question");
    listener.onHalfClose();
    assertThat(MDC.get(RequestIdInterceptor.MDC_KEY)).as("nothing left behind between callbacks").isNull();
    // Another call's callback, running on this thread, completes this one.
    MDC.put(RequestIdInterceptor.MDC_KEY, "id-outer");
    listener.onComplete();

    assertThat(MDC.get(RequestIdInterceptor.MDC_KEY)).as("the outer call's id given back").isEqualTo("id-outer");
    assertThat(seen).containsExactly("start id-1", "onMessage id-1", "onHalfClose id-1",
        "sendHeaders id-1", "sendMessage id-1", "close id-1", "after sends id-1", "onComplete id-1");
  }

  @Test
  void aSendFromOutsideTheCallsCallbacksCarriesItsIdAndGivesTheOuterOneBack() {
    var call = new RecordingCall();
    ServerCallHandler<Object, Object> handler = (c, headers) -> {
      served = c;
      return new ServerCall.Listener<>() {};
    };
    new RequestIdInterceptor().interceptCall(call, withRequestId("id-2"), handler);

    MDC.put(RequestIdInterceptor.MDC_KEY, "id-other");
    served.close(Status.DEADLINE_EXCEEDED, new Metadata());
    assertThat(MDC.get(RequestIdInterceptor.MDC_KEY)).isEqualTo("id-other");
    MDC.remove(RequestIdInterceptor.MDC_KEY);
    served.sendMessage("late");
    assertThat(MDC.get(RequestIdInterceptor.MDC_KEY)).isNull();

    assertThat(seen).containsExactly("close id-2", "sendMessage id-2");
  }

  private ServerCall<Object, Object> served;

  private static Metadata withRequestId(String id) {
    var headers = new Metadata();
    headers.put(RequestIdInterceptor.HEADER, id);
    return headers;
  }

  private final class RecordingCall extends ServerCall<Object, Object> {

    @Override
    public void request(int numMessages) {}

    @Override
    public void sendHeaders(Metadata headers) {
      seen.add("sendHeaders " + MDC.get(RequestIdInterceptor.MDC_KEY));
    }

    @Override
    public void sendMessage(Object message) {
      seen.add("sendMessage " + MDC.get(RequestIdInterceptor.MDC_KEY));
    }

    @Override
    public void close(Status status, Metadata trailers) {
      seen.add("close " + MDC.get(RequestIdInterceptor.MDC_KEY));
    }

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public MethodDescriptor<Object, Object> getMethodDescriptor() {
      return null;
    }
  }
}
