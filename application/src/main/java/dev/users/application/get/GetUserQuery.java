package dev.users.application.get;

import dev.users.domain.InvalidInputException;
import dev.users.domain.UserId;
import java.util.Objects;

public record GetUserQuery(UserId id) {

  public GetUserQuery {
    Objects.requireNonNull(id, "id");
  }

  /** @throws InvalidInputException naming {@code id} when it is not a UUID */
  public static GetUserQuery of(String id) {
    return new GetUserQuery(UserId.parse(id));
  }
}
