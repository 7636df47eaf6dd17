package dev.users.application.importing;

import dev.users.application.access.AccessPolicy;
import dev.users.application.access.Caller;
import dev.users.application.port.UserIdGenerator;
import dev.users.application.port.UserRepository;
import dev.users.domain.DisplayName;
import dev.users.domain.Email;
import dev.users.domain.EmailAlreadyTakenException;
import dev.users.domain.User;
import dev.users.domain.UserId;
import dev.users.domain.Violations;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;

/**
 * Validates a batch item by item, rejects an email that an earlier item of the batch already
 * uses, and writes the rest in one {@link UserRepository#addAll} call.
 */
public final class ImportUsersService implements ImportUsers {

  private final UserRepository users;
  private final UserIdGenerator ids;
  private final Clock clock;

  public ImportUsersService(UserRepository users, UserIdGenerator ids, Clock clock) {
    this.users = users;
    this.ids = ids;
    this.clock = clock;
  }

  @Override
  public List<ImportOutcome> importBatch(Caller caller, List<ImportItem> items) {
    AccessPolicy.mayImport(caller);
    var outcomes = new ImportOutcome[items.size()];
    var now = clock.instant();
    var emailsInBatch = new HashSet<String>();
    var candidates = new ArrayList<User>();
    var positionOf = new HashMap<UserId, Integer>();
    for (int i = 0; i < items.size(); i++) {
      var item = items.get(i);
      var violations = new Violations();
      var email = violations.check(() -> new Email(item.email()));
      var name = violations.check(() -> new DisplayName(item.displayName()));
      var invalid = violations.failure();
      if (invalid.isPresent()) {
        outcomes[i] = new ImportOutcome.Rejected(invalid.get());
        continue;
      }
      if (!emailsInBatch.add(email.canonical())) {
        outcomes[i] = new ImportOutcome.Rejected(new EmailAlreadyTakenException(email));
        continue;
      }
      var user = User.register(ids.next(), email, name, now);
      candidates.add(user);
      positionOf.put(user.id(), i);
    }
    for (var stored : users.addAll(candidates)) {
      outcomes[positionOf.get(stored.id())] = new ImportOutcome.Created(stored);
    }
    for (var candidate : candidates) {
      int i = positionOf.get(candidate.id());
      if (outcomes[i] == null) {
        outcomes[i] = new ImportOutcome.Rejected(new EmailAlreadyTakenException(candidate.email()));
      }
    }
    return Arrays.asList(outcomes);
  }
}
