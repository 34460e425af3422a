%% rig's agent inside a RabbitMQ node that rig started. AMQP cannot list a vhost's queues nor
%% say how many messages a consumer holds unacknowledged, and the management plugin's figures
%% lag by its statistics interval; this agent answers from the broker itself, exactly, in one
%% round trip: every queue of a vhost with its ready and unacknowledged counts, the exchanges,
%% the bindings. It also does the few things only an administrator can: vhosts for parallel
%% workers, deleting a queue another connection owns.
%%
%% It listens on the unix socket named by RIG_AGENT_SOCKET (in a directory only the broker's
%% user can enter). Frames are {packet, 4}, one JSON object each way; the first request of a
%% connection authenticates with the credentials of an administrator of the broker.
%% Compiled by rig into its init cache (erlc), loaded with `-pa … -s rig_agent start`; requests
%% made before the broker finished booting fail, so rig asks only once AMQP answers.
-module(rig_agent).
-export([start/0]).

-define(QUEUE_ITEMS, [name, durable, auto_delete, arguments, exclusive, type,
                      messages_ready, messages_unacknowledged, consumers]).

%% Called by init before `-s rabbit boot`. With RIG_AGENT_PREPARE set, the node is the one rig
%% boots once to fill its init cache: drop the bootstrap user, then stop cleanly.
start() ->
    case os:getenv("RIG_AGENT_PREPARE") of
        false -> ok;
        User -> proc_lib:spawn(fun() -> prepare(list_to_binary(User)) end)
    end,
    case os:getenv("RIG_AGENT_SOCKET") of
        false -> ok;
        Path -> listen_on(Path)
    end.

prepare(User) ->
    try
        wait_booted(600),
        ok = rabbit_auth_backend_internal:delete_user(User, <<"rig">>),
        init:stop()
    catch Class:Reason ->
        io:format(standard_error, "rig_agent: preparing the cache failed: ~p:~p~n", [Class, Reason]),
        erlang:halt(1)
    end.

wait_booted(0) -> erlang:error(rabbit_not_booted_after_60s);
wait_booted(N) ->
    Booted = try rabbit:is_booted() catch _:_ -> false end,
    case Booted of
        true -> ok;
        false -> timer:sleep(100), wait_booted(N - 1)
    end.

listen_on(Path) ->
    Self = self(),
    Pid = proc_lib:spawn(fun() -> listener(Path, Self) end),
    receive
        {Pid, listening} -> ok;
        {Pid, Error} -> erlang:error({rig_agent, Error})
    after 10000 -> erlang:error({rig_agent, listen_timeout})
    end.

listener(Path, Parent) ->
    _ = file:delete(Path),
    case gen_tcp:listen(0, [{ifaddr, {local, Path}}, binary, {packet, 4}, {active, false}]) of
        {ok, L} ->
            Parent ! {self(), listening},
            accept(L);
        {error, Reason} ->
            Parent ! {self(), {cannot_listen, Path, Reason}}
    end.

accept(L) ->
    case gen_tcp:accept(L) of
        {ok, S} ->
            Pid = proc_lib:spawn(fun() -> receive {go, Sock} -> session(Sock, undefined) end end),
            ok = gen_tcp:controlling_process(S, Pid),
            Pid ! {go, S},
            accept(L);
        {error, closed} -> ok;
        {error, _} -> accept(L)
    end.

session(S, User) ->
    case gen_tcp:recv(S, 0) of
        {ok, Bin} ->
            {Reply, User1} =
                try handle(rabbit_json:decode(Bin), User)
                catch Class:Reason:Stack ->
                        {#{error => iolist_to_binary(io_lib:format("~p:~p ~p", [Class, Reason, lists:sublist(Stack, 3)]))}, User}
                end,
            ok = gen_tcp:send(S, rabbit_json:encode(Reply)),
            session(S, User1);
        {error, _} ->
            gen_tcp:close(S)
    end.

handle(#{<<"op">> := <<"auth">>, <<"user">> := Name, <<"password">> := Password}, _) ->
    case rabbit_access_control:check_user_pass_login(Name, Password) of
        {ok, User} ->
            case lists:member(administrator, element(3, User)) of
                true -> {#{ok => true, node => atom_to_binary(node(), utf8), version => version()}, Name};
                false -> {#{error => <<"user is not an administrator of the broker">>}, undefined}
            end;
        {refused, _, Fmt, Args} ->
            {#{error => iolist_to_binary(io_lib:format(Fmt, Args))}, undefined}
    end;
handle(_, undefined) ->
    {#{error => <<"authenticate first">>}, undefined};
handle(#{<<"op">> := <<"inspect">>, <<"vhost">> := V}, User) ->
    {inspect(V), User};
handle(#{<<"op">> := <<"delete_queue">>, <<"vhost">> := V, <<"name">> := Name}, User) ->
    QName = rabbit_misc:r(V, queue, Name),
    Reply = case rabbit_amqqueue:lookup(QName) of
                {ok, Q} ->
                    _ = rabbit_amqqueue:delete(Q, false, false, User),
                    %% The queue answers before it has left the database: a declare right
                    %% after would find the dying queue, and messages published to it vanish.
                    wait_gone(QName, 1000),
                    #{ok => true};
                {error, not_found} -> #{ok => false}
            end,
    {Reply, User};
handle(#{<<"op">> := <<"add_vhost">>, <<"name">> := V, <<"description">> := D}, User) ->
    ok = rabbit_vhost:add(V, D, [], User),
    ok = rabbit_auth_backend_internal:set_permissions(User, V, <<".*">>, <<".*">>, <<".*">>, User),
    {#{ok => true}, User};
handle(#{<<"op">> := <<"delete_vhost">>, <<"name">> := V}, User) ->
    Existed = rabbit_vhost:exists(V),
    _ = Existed andalso rabbit_vhost:delete(V, User),
    {#{ok => Existed}, User};
handle(#{<<"op">> := <<"list_vhosts">>}, User) ->
    {#{vhosts => [#{name => V, description => description(V)} || V <- rabbit_vhost:list_names()]}, User};
handle(Request, User) ->
    {#{error => iolist_to_binary(io_lib:format("unknown request ~p", [Request]))}, User}.

wait_gone(_, 0) -> ok;
wait_gone(QName, N) ->
    case rabbit_amqqueue:lookup(QName) of
        {error, not_found} -> ok;
        _ -> timer:sleep(5), wait_gone(QName, N - 1)
    end.

version() ->
    {ok, V} = application:get_key(rabbit, vsn),
    list_to_binary(V).

description(V) ->
    case proplists:get_value(description, rabbit_vhost:info(V)) of
        D when is_binary(D) -> D;
        _ -> <<>>
    end.

inspect(V) ->
    #{queues => [queue(Q) || Q <- rabbit_amqqueue:list(V)],
      exchanges => [exchange(rabbit_exchange:info(X)) || X <- rabbit_exchange:list(V)],
      bindings => [binding(rabbit_binding:info(B)) || B <- rabbit_binding:list(V)]}.

%% A queue whose process is busy or gone answers with an error instead of failing the whole
%% inspection; the guard reports it.
queue(Q) ->
    Name = element(4, amqqueue:get_name(Q)),
    try maps:from_list([{K, json(K, Val)} || {K, Val} <- rabbit_amqqueue:info(Q, ?QUEUE_ITEMS)])
    catch _:Reason -> #{name => Name, error => iolist_to_binary(io_lib:format("~p", [Reason]))}
    end.

exchange(Info) ->
    maps:from_list([{K, json(K, proplists:get_value(K, Info))} || K <- [name, type, durable, auto_delete, internal, arguments]]).

binding(Info) ->
    maps:from_list([{K, json(K, proplists:get_value(K, Info))} || K <- [source_name, destination_name, destination_kind, routing_key, arguments]]).

json(_, {resource, _, _, Name}) -> Name;
json(arguments, Args) -> table(Args);
json(_, V) when is_atom(V), V =/= true, V =/= false -> atom_to_binary(V, utf8);
json(_, V) -> V.

%% AMQP tables keep their field types, so what the guard re-declares is equivalent.
table(Args) -> [[K, atom_to_binary(T, utf8), value(T, V)] || {K, T, V} <- Args].

value(table, V) -> table(V);
value(array, V) -> [[atom_to_binary(T, utf8), value(T, X)] || {T, X} <- V];
value(longstr, V) ->
    case unicode:characters_to_binary(V) of
        B when is_binary(B) -> B;
        _ -> #{base64 => base64:encode(V)}
    end;
value(binary, V) -> #{base64 => base64:encode(V)};
value(void, _) -> null;
value(decimal, {Scale, Digits}) -> [Scale, Digits];
value(_, V) -> V.
